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
  },
};

export const MODEL_SPECS: Readonly<Record<string, ModelSpec>> = {
  [BULK_MLP.name]: BULK_MLP,
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
