import type { Params } from '../../core/params.js';
import type { SearchSpace } from '../space/search-space.js';

export type TrialState = 'WAITING' | 'RUNNING' | 'COMPLETE' | 'PRUNED' | 'FAIL';

/** What a sampler may know about earlier trials of its study. */
export interface TrialView {
  number: number;
  state: TrialState;
  params: Params;
  /** The objective (mean AUC over seeds) of a COMPLETE trial; larger is better. */
  value?: number;
  /**
   * Intermediate objective values, index = step (epoch), as a pruner saw them.
   * TPE ranks PRUNED trials by the last step they reached, then the value
   * there; absent (or empty) ranks a pruned trial last.
   */
  intermediate?: readonly number[];
}

/**
 * Proposes configurations for one study. Implementations are pure functions
 * of (their seed, the space, the history, the trial number): the same inputs
 * give the same suggestion, so a resumed sweep asks exactly what it would have.
 */
export interface Sampler {
  readonly name: string;
  /** A configuration for trial `trialNumber`, or null when the space is exhausted (grid). */
  suggest(space: SearchSpace, history: readonly TrialView[], trialNumber: number): Params | null;
  /** How many distinct configurations the sampler can produce (Infinity when unbounded). */
  capacity(space: SearchSpace): number;
  /**
   * Optional: configurations for trials firstTrialNumber .. firstTrialNumber + k - 1
   * at once, each asked as if the ones before it were RUNNING (what k idle
   * trainers would get from k successive `suggest` calls). Shorter than k when
   * the space runs out.
   */
  suggestBatch?(space: SearchSpace, history: readonly TrialView[], firstTrialNumber: number, k: number): Params[];
}
