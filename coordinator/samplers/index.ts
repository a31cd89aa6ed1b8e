import { ConfigError, expected } from '../../core/errors.js';
import { GridSampler } from './grid.js';
import { RandomSampler } from './random.js';
import type { Sampler } from './sampler.js';
import type { StudyConfig } from '../config/sweep-config.js';
import { compileTpeOptions, TpeSampler } from './tpe/index.js';

export type { Sampler, TrialState, TrialView } from './sampler.js';
export type { TpeOptions } from './tpe/index.js';

export const SAMPLER_NAMES = ['random', 'grid', 'tpe'] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

/**
 * The sampler called `name`. `options` are the sampler's own settings (only
 * TPE has any: see coordinator/samplers/tpe/options.ts); they are checked
 * here, so a bad option fails when the sweep file is read, naming `field`.
 */
export function createSampler(name: string, seed: number, options?: unknown, field = 'sampler_options'): Sampler {
  const none = options === undefined || (typeof options === 'object' && options !== null && !Array.isArray(options) && Object.keys(options).length === 0);
  switch (name) {
    case 'random':
    case 'grid':
      if (!none) throw new ConfigError(`the ${name} sampler takes no options, but got ${JSON.stringify(options)}`, { field });
      return name === 'random' ? new RandomSampler(seed) : new GridSampler(seed);
    case 'tpe':
      return new TpeSampler(seed, compileTpeOptions(options ?? {}, field));
    default:
      throw new ConfigError(expected(`a sampler (${SAMPLER_NAMES.join(', ')})`, name), { field: 'sampler' });
  }
}

/**
 * One sampler per study, made on first use and kept: samplers hold caches
 * (TPE's encoded history), and a study's trials must all come from one.
 */
export function samplersByStudy(): (study: StudyConfig) => Sampler {
  const samplers = new Map<string, Sampler>();
  return (study) => {
    let sampler = samplers.get(study.name);
    if (sampler === undefined) samplers.set(study.name, (sampler = createSampler(study.sampler, study.samplerSeed, study.samplerOptions)));
    return sampler;
  };
}
