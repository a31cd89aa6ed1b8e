import type { Params } from '../../core/params.js';
import type { PrunerConfig } from '../pruners/index.js';
import type { SearchSpace } from '../space/search-space.js';

/** One dataset x one model x one space x one objective, fully resolved. */
export interface StudyConfig {
  name: string;
  /** Absolute path of the dataset directory. */
  dataset: string;
  model: string;
  space: SearchSpace;
  /** Model settings held constant across the study's trials. */
  fixed: Params;
  /** Trial budget. */
  trials: number;
  /** Every trial is trained once per seed; its value is the mean over them. */
  seeds: readonly number[];
  sampler: string;
  samplerSeed: number;
  /** The sampler's own options as the sweep file gives them (TPE: docs/tpe.md); checked when the file is read. */
  samplerOptions?: Record<string, unknown>;
  /** Stops hopeless trials early (docs/sweep-file.md); none when absent. */
  pruner?: PrunerConfig;
}

/** A sweep as the coordinator runs it: every default applied, every path absolute. */
export interface SweepConfig {
  name: string;
  studies: StudyConfig[];
  /** Trainer processes in local mode (the CLI flag wins). */
  trainers?: number;
  /** Where the file came from, for messages; "(embedded demo)" for the default sweep. */
  source: string;
}
