import { ConfigError, expected } from './errors.js';
import type { ParamValue, Params } from './params.js';

/**
 * What each model family accepts, declared once and shared: the coordinator
 * checks search spaces and fixed settings against it before any training
 * starts, and the trainer resolves a run's settings with it. The training code
 * itself lives in trainer/models/.
 */
export type SettingSpec =
  | { type: 'float'; default: number; min?: number; max?: number; help: string }
  | { type: 'int'; default: number; min?: number; max?: number; help: string }
  | { type: 'choice'; default: string; choices: readonly string[]; help: string }
  | { type: 'flag'; default: boolean; help: string };

export interface ModelSpec {
  name: string;
  description: string;
  settings: Readonly<Record<string, SettingSpec>>;
}

/** The bulk sampling strategies of the SCTL paper (section 3.2). */
export const SAMPLING_STRATEGIES = ['none', 'weighted', 'smote'] as const;
export type SamplingStrategy = (typeof SAMPLING_STRATEGIES)[number];

/** Settings every family shares: how bulk batches are drawn and the optimiser. */
const trainingSettings = {
  sampling: {
    type: 'choice',
    default: 'weighted',
    choices: SAMPLING_STRATEGIES,
    help: 'bulk mini-batch sampling: none, weighted (1 / class frequency) or smote',
  },
  smote_k: { type: 'int', default: 5, min: 1, max: 50, help: 'SMOTE nearest neighbours' },
  epochs: { type: 'int', default: 30, min: 1, max: 100000, help: 'passes over the bulk data' },
  batch_size: { type: 'int', default: 128, min: 2, max: 65536, help: 'bulk mini-batch size' },
  lr: { type: 'float', default: 1e-3, min: 1e-7, max: 1, help: 'Adam learning rate' },
  weight_decay: { type: 'float', default: 5e-4, min: 0, max: 1, help: 'L2 penalty added to the gradient (as torch.optim.Adam)' },
  dropout: { type: 'float', default: 0.5, min: 0, max: 0.95, help: 'dropout rate after each hidden layer' },
} as const satisfies Record<string, SettingSpec>;

/**
 * Settings every real family shares: which target cells a run trains and is
 * scored on. SCTL's robustness check (section 3.3) re-runs the best
 * configuration on 20 random 80% subsamples of the cells.
 */
const targetSettings = {
  target_fraction: {
    type: 'float',
    default: 1,
    min: 0.05,
    max: 1,
    help: 'train and score on this random share of the target cells (SCTL section 3.3: 0.8); 1 = all of them',
  },
  target_subsample: {
    type: 'int',
    default: 0,
    min: 0,
    max: 1000000,
    help: 'which random subsample target_fraction draws (the draw\'s seed; the run\'s seed still seeds training)',
  },
} as const satisfies Record<string, SettingSpec>;

export const BULK_MLP: ModelSpec = {
  name: 'bulk-mlp',
  description: 'No-transfer baseline: an MLP trained on bulk labels only, applied to the cells',
  settings: {
    depth: {
      type: 'int',
      default: 5,
      min: 2,
      max: 6,
      help: 'hidden layers of the predictor (SCTL Table 5: depth d = d-1 layers of 128, then 64)',
    },
    ...trainingSettings,
    ...targetSettings,
  },
};

/** How the SCTL decoder is built: the encoder's hidden layers mirrored (the paper), or Linear(latent -> genes) alone (uniPort). */
export const SCTL_DECODERS = ['mirror', 'linear'] as const;
export type SctlDecoder = (typeof SCTL_DECODERS)[number];

/** The MMD kernel of SCTL: several data-scaled RBF bandwidths (default), or one fixed sigma (the public code, sigma 1000). */
export const MMD_KERNELS = ['multi', 'single'] as const;
export type MmdKernelName = (typeof MMD_KERNELS)[number];

/** What the SCTL predictor is trained on: the sampled code z_b (the paper, eq. 9; default) or the posterior mean mu_b. */
export const SCTL_PREDICTOR_INPUTS = ['z', 'mu'] as const;
export type SctlPredictorInput = (typeof SCTL_PREDICTOR_INPUTS)[number];

/** How the SCTL KL term is reduced over latent dimensions: averaged (default; docs/sctl.md) or summed (eq. 2, uniPort). */
export const KL_REDUCTIONS = ['mean', 'sum'] as const;
export type KlReduction = (typeof KL_REDUCTIONS)[number];

const { sampling, smote_k, batch_size, weight_decay, dropout } = trainingSettings;

/**
 * SCTL (SCIENCE.md, docs/sctl.md): a VAE shared by bulk and cells, aligned by
 * unbalanced OT and MMD in the latent space, with a drug-response predictor
 * trained on the bulk latent codes. Defaults are the paper's and its public
 * code's, except where docs/sctl.md shows evidence for another.
 * Loss weights may be 0 (the paper's ablations: l1 = 0 no OT, l2 = 0 no MMD).
 */
export const SCTL: ModelSpec = {
  name: 'sctl',
  description: 'SCTL: shared VAE, bulk-to-cell alignment by unbalanced OT and MMD, predictor on bulk latent codes',
  settings: {
    l1: { type: 'float', default: 1, min: 0, max: 1000, help: 'weight of the OT loss (paper: 0.1, 0.5, 1, 2)' },
    l2: { type: 'float', default: 1, min: 0, max: 1000, help: 'weight of the MMD loss (paper: 0.5, 1, 10)' },
    l3: { type: 'float', default: 1, min: 0, max: 1000, help: 'weight of the predictor BCE loss (paper: 0.5, 1, 5, 15)' },
    depth: {
      type: 'int',
      default: 5,
      min: 2,
      max: 6,
      help: 'hidden layers of the predictor (SCTL Table 5: depth d = d-1 layers of 128, then 64)',
    },
    sampling,
    smote_k,
    iterations: { type: 'int', default: 800, min: 1, max: 1000000, help: 'training steps, each one bulk batch and one cell batch' },
    batch_size,
    cell_batch_size: {
      type: 'int',
      default: 128,
      min: 2,
      max: 65536,
      help: 'cells per step (all cells when there are fewer)',
    },
    lr: { type: 'float', default: 2e-4, min: 1e-7, max: 1, help: 'Adam learning rate' },
    weight_decay,
    dropout,
    encoder_hidden: { type: 'int', default: 1024, min: 1, max: 65536, help: 'width of each encoder hidden layer' },
    encoder_layers: { type: 'int', default: 1, min: 1, max: 8, help: 'encoder hidden layers (the decoder mirrors them)' },
    latent: { type: 'int', default: 16, min: 1, max: 4096, help: 'latent dimensions' },
    decoder: {
      type: 'choice',
      default: 'mirror',
      choices: SCTL_DECODERS,
      help: "decoder: 'mirror' (the encoder's hidden layers reversed, as the paper) or 'linear' (latent -> genes, as uniPort)",
    },
    recon_weight: { type: 'float', default: 10, min: 0, max: 1e6, help: 'weight a of the reconstruction MSE in L_vae' },
    kl_weight: { type: 'float', default: 0.5, min: 0, max: 1e6, help: 'weight b of the KL divergence in L_vae' },
    kl_reduction: {
      type: 'choice',
      default: 'mean',
      choices: KL_REDUCTIONS,
      help: "KL over latent dimensions: 'mean' (matches the reference figures of shared/data/README.md) or 'sum' (eq. 2 as written, uniPort)",
    },
    predictor_input: {
      type: 'choice',
      default: 'z',
      choices: SCTL_PREDICTOR_INPUTS,
      help: "the predictor's training input: 'z' (the sampled bulk codes, as the paper) or 'mu' (the posterior means); cells are always scored on mu",
    },
    mmd_kernel: {
      type: 'choice',
      default: 'multi',
      choices: MMD_KERNELS,
      help: "MMD kernel: 'multi' (mean of RBF kernels at data-scaled bandwidths) or 'single' (one RBF, sigma = mmd_sigma)",
    },
    mmd_sigma: { type: 'float', default: 1000, min: 1e-6, max: 1e9, help: "RBF sigma of the 'single' MMD kernel (public code: 1000)" },
    mmd_bandwidths: { type: 'int', default: 5, min: 1, max: 31, help: "number of bandwidths of the 'multi' MMD kernel" },
    mmd_bandwidth_mul: { type: 'float', default: 2, min: 1, max: 100, help: "ratio between neighbouring bandwidths of the 'multi' MMD kernel" },
    ot_eps: { type: 'float', default: 0.1, min: 0.01, max: 100, help: 'entropic weight of the unbalanced OT (paper: 0.1)' },
    ot_tau: { type: 'float', default: 1, min: 1e-3, max: 1e6, help: 'KL marginal relaxation of the unbalanced OT (paper: 1)' },
    ot_outer: { type: 'int', default: 10, min: 1, max: 100, help: 'proximal point (outer) steps of the OT solver' },
    ot_inner: { type: 'int', default: 10, min: 1, max: 1000, help: 'scaling (inner) steps per outer step of the OT solver' },
    ...targetSettings,
  },
};

/**
 * A test model, never a default: waits, then scores the cells with a seeded
 * blend of their labels and noise. It lets the dispatch path (NATS, gRPC, the
 * journal) be measured and fault-tested without training (docs/cluster.md).
 */
export const SLEEP: ModelSpec = {
  name: 'sleep',
  description: 'Test model: waits `seconds`, returns a seeded score (AUC rises with `signal`); for measuring dispatch, not for science',
  settings: {
    seconds: { type: 'float', default: 0.05, min: 0, max: 86400, help: 'time the run takes, spread evenly over its epochs' },
    epochs: { type: 'int', default: 1, min: 1, max: 100000, help: 'epochs, each reporting progress' },
    signal: { type: 'float', default: 0.5, min: 0, max: 1, help: 'weight of the true label against standard normal noise in each cell score (0: chance AUC, 1: AUC 1)' },
    crash_at_epoch: {
      type: 'int',
      default: 0,
      min: 0,
      max: 100000,
      help: 'kill the trainer process (SIGKILL) when this epoch starts; 0 never (a poison run, for fault tests)',
    },
  },
};

export const MODEL_SPECS: Readonly<Record<string, ModelSpec>> = {
  [BULK_MLP.name]: BULK_MLP,
  [SCTL.name]: SCTL,
  [SLEEP.name]: SLEEP,
};

export function modelSpec(name: string): ModelSpec {
  const spec = MODEL_SPECS[name];
  if (spec === undefined) {
    throw new ConfigError(expected(`a model family (${Object.keys(MODEL_SPECS).join(', ')})`, name), { field: 'model' });
  }
  return spec;
}

/** Defaults filled in, unknown keys and out-of-range values rejected. */
export function resolveSettings(spec: ModelSpec, params: Params): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const key of Object.keys(params)) {
    if (!(key in spec.settings)) {
      throw new ConfigError(
        `model '${spec.name}' has no setting '${key}' (known: ${Object.keys(spec.settings).sort().join(', ')})`,
        { field: key },
      );
    }
  }
  for (const [key, setting] of Object.entries(spec.settings)) {
    const value = params[key] ?? setting.default;
    checkSetting(key, setting, value);
    out[key] = value;
  }
  return out;
}

export function checkSetting(key: string, setting: SettingSpec, value: ParamValue): void {
  switch (setting.type) {
    case 'float':
    case 'int': {
      const what = setting.type === 'int' ? 'an integer' : 'a number';
      if (typeof value !== 'number' || !Number.isFinite(value) || (setting.type === 'int' && !Number.isInteger(value))) {
        throw new ConfigError(expected(what, value), { field: key });
      }
      if (setting.min !== undefined && value < setting.min) throw new ConfigError(expected(`${what} >= ${setting.min}`, value), { field: key });
      if (setting.max !== undefined && value > setting.max) throw new ConfigError(expected(`${what} <= ${setting.max}`, value), { field: key });
      return;
    }
    case 'choice':
      if (typeof value !== 'string' || !setting.choices.includes(value)) {
        throw new ConfigError(expected(`one of ${setting.choices.join(', ')}`, value), { field: key });
      }
      return;
    case 'flag':
      if (typeof value !== 'boolean') throw new ConfigError(expected('true or false', value), { field: key });
      return;
  }
}
