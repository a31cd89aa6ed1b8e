import {
  KL_REDUCTIONS,
  MMD_KERNELS,
  SAMPLING_STRATEGIES,
  SCTL_DECODERS,
  SCTL_PREDICTOR_INPUTS,
  type KlReduction,
  type SamplingStrategy,
  type SctlDecoder,
  type SctlPredictorInput,
} from '../../../core/model-specs.js';
import { choiceSetting, intSetting, numberSetting, type Settings } from '../settings.js';
import type { MmdKernel } from './mmd.js';
import type { UnbalancedOtOptions } from './ot.js';

/** The network's shape; genes come from the data. */
export interface SctlArchitecture {
  genes: number;
  /** Widths of the encoder's hidden layers; the 'mirror' decoder reverses them. */
  encoderHidden: number[];
  latent: number;
  decoder: SctlDecoder;
  /** Predictor depth of SCTL Table 5. */
  depth: number;
  dropout: number;
}

/** What one step minimises: L = a MSE + b KL + l1 L_ot + l2 L_mmd + l3 L_pred. */
export interface SctlObjective {
  l1: number;
  l2: number;
  l3: number;
  reconWeight: number;
  klWeight: number;
  /** KL over latent dimensions: averaged or summed (docs/sctl.md). */
  klReduction: KlReduction;
  /** What L_pred sees of the bulk rows: the sampled codes z or the means mu. */
  predictorInput: SctlPredictorInput;
  mmd: MmdKernel;
  ot: UnbalancedOtOptions;
}

export interface SctlTraining {
  sampling: SamplingStrategy;
  smoteK: number;
  iterations: number;
  batchSize: number;
  cellBatchSize: number;
  lr: number;
  weightDecay: number;
}

export interface SctlConfig {
  architecture: Omit<SctlArchitecture, 'genes'>;
  objective: SctlObjective;
  training: SctlTraining;
}

/** Typed view of resolved settings (core/model-specs SCTL). */
export function sctlConfig(settings: Settings): SctlConfig {
  const mmd: MmdKernel =
    choiceSetting(settings, 'mmd_kernel', MMD_KERNELS) === 'single'
      ? { kind: 'single', sigma: numberSetting(settings, 'mmd_sigma') }
      : { kind: 'multi', bandwidths: intSetting(settings, 'mmd_bandwidths'), mul: numberSetting(settings, 'mmd_bandwidth_mul') };
  return {
    architecture: {
      encoderHidden: Array<number>(intSetting(settings, 'encoder_layers')).fill(intSetting(settings, 'encoder_hidden')),
      latent: intSetting(settings, 'latent'),
      decoder: choiceSetting(settings, 'decoder', SCTL_DECODERS),
      depth: intSetting(settings, 'depth'),
      dropout: numberSetting(settings, 'dropout'),
    },
    objective: {
      l1: numberSetting(settings, 'l1'),
      l2: numberSetting(settings, 'l2'),
      l3: numberSetting(settings, 'l3'),
      reconWeight: numberSetting(settings, 'recon_weight'),
      klWeight: numberSetting(settings, 'kl_weight'),
      klReduction: choiceSetting(settings, 'kl_reduction', KL_REDUCTIONS),
      predictorInput: choiceSetting(settings, 'predictor_input', SCTL_PREDICTOR_INPUTS),
      mmd,
      ot: {
        eps: numberSetting(settings, 'ot_eps'),
        tau: numberSetting(settings, 'ot_tau'),
        outer: intSetting(settings, 'ot_outer'),
        inner: intSetting(settings, 'ot_inner'),
      },
    },
    training: {
      sampling: choiceSetting(settings, 'sampling', SAMPLING_STRATEGIES),
      smoteK: intSetting(settings, 'smote_k'),
      iterations: intSetting(settings, 'iterations'),
      batchSize: intSetting(settings, 'batch_size'),
      cellBatchSize: intSetting(settings, 'cell_batch_size'),
      lr: numberSetting(settings, 'lr'),
      weightDecay: numberSetting(settings, 'weight_decay'),
    },
  };
}
