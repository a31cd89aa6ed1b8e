import { ConfigError, expected } from '../../core/errors.js';
import { GridSampler } from './grid.js';
import { RandomSampler } from './random.js';
import type { Sampler } from './sampler.js';

export type { Sampler, TrialState, TrialView } from './sampler.js';

export const SAMPLER_NAMES = ['random', 'grid'] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

export function createSampler(name: string, seed: number): Sampler {
  switch (name) {
    case 'random':
      return new RandomSampler(seed);
    case 'grid':
      return new GridSampler(seed);
    default:
      throw new ConfigError(expected(`a sampler (${SAMPLER_NAMES.join(', ')})`, name), { field: 'sampler' });
  }
}
