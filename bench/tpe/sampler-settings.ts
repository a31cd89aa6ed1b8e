import { TPE_PRESETS, type TpeOptions } from '../../coordinator/samplers/tpe/index.js';

/**
 * The TPE settings the benchmarks compare beside the defaults, in one place so
 * the head-to-head and the tabular benchmark measure the same samplers.
 */

/** The setting docs/tpe.md suggests for parallel trainers (preset parallel-pool). */
export const POOL: Partial<TpeOptions> = TPE_PRESETS['parallel-pool'];

/** The portfolio of density rules (TpeOptions.optuna31Every): every fourth suggestion with Optuna 3.1.0's. */
export const PORTFOLIO: Partial<TpeOptions> = { optuna31Every: 4 };

/** Categorical mutation (TpeOptions.categoricalMutationEvery): every fourth suggestion's categories drawn at random (preset mixed-space). */
export const MUTATION: Partial<TpeOptions> = TPE_PRESETS['mixed-space'];

/**
 * The setting docs/tpe.md suggests for small all-discrete spaces such as the
 * paper's SCTL grid: the exact argmax over the unseen points
 * (enumerateUpTo), Optuna 3.1.0's density rules on every suggestion, and 5
 * startup trials from one Latin hypercube. Chosen on the tabular SCTL
 * benchmark's seeds 0-99 and confirmed on seeds 100-199 (BENCHMARKS.md).
 * Preset small-grid.
 */
export const GRID: Partial<TpeOptions> = TPE_PRESETS['small-grid'];
