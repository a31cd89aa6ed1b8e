import { ConfigError, expected } from '../../core/errors.js';
import { SAMPLING_STRATEGIES, type SamplingStrategy } from '../../core/model-specs.js';
import type { ParamValue } from '../../core/params.js';

/**
 * Typed views of resolved settings (core/model-specs resolveSettings has
 * filled defaults and checked ranges). The checks here only guard against a
 * caller that skipped resolution; they name the setting that is wrong.
 */
export type Settings = Readonly<Record<string, ParamValue>>;

/** The settings every family shares (model-specs `trainingSettings`). */
export interface TrainingConfig {
  sampling: SamplingStrategy;
  smoteK: number;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  dropout: number;
}

export function trainingConfig(settings: Settings): TrainingConfig {
  return {
    sampling: choiceSetting(settings, 'sampling', SAMPLING_STRATEGIES),
    smoteK: intSetting(settings, 'smote_k'),
    epochs: intSetting(settings, 'epochs'),
    batchSize: intSetting(settings, 'batch_size'),
    lr: numberSetting(settings, 'lr'),
    weightDecay: numberSetting(settings, 'weight_decay'),
    dropout: numberSetting(settings, 'dropout'),
  };
}

export function numberSetting(settings: Settings, key: string): number {
  const value = settings[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(expected('a finite number', value), { field: key });
  return value;
}

export function intSetting(settings: Settings, key: string): number {
  const value = numberSetting(settings, key);
  if (!Number.isInteger(value)) throw new ConfigError(expected('an integer', value), { field: key });
  return value;
}

export function choiceSetting<T extends string>(settings: Settings, key: string, choices: readonly T[]): T {
  const value = settings[key];
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new ConfigError(expected(`one of ${choices.join(', ')}`, value), { field: key });
  }
  return value as T;
}
