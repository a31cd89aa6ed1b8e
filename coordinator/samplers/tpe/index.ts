/**
 * The TPE sampler's public entry: the sampler and its options. The math
 * (truncated normal, kernels, mixture, Parzen estimator, split, design) is
 * internal to this folder; tests import those modules directly.
 */
export { TpeSampler } from './tpe-sampler.js';
export { compileTpeOptions, DEFAULT_TPE_OPTIONS, TPE_PRESETS } from './options.js';
export type { TpeOptions, TpePreset } from './options.js';
