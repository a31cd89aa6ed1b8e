import type { Study, Trial } from '../study/sweep-state.js';

/** What just happened to a RUNNING trial: one of its runs reported an epoch, or finished. */
export type PruneEvent = { kind: 'epoch'; seed: number; epoch: number } | { kind: 'run'; seed: number };

/**
 * Decides whether a trial's remaining runs are worth training. Pruners are
 * pure functions of the study's journaled state, so a resumed sweep decides
 * exactly as the killed one would have.
 */
export interface Pruner {
  readonly name: string;
  /** Whether runs must report the cells' AUC after every epoch (RunSpec.report_epoch_metrics). */
  readonly needsEpochMetrics: boolean;
  /** The reason to stop `trial` now, or undefined to let it run. */
  judge(study: Study, trial: Trial, event: PruneEvent): string | undefined;
}

/** The AUC a trial's run with `seed` reported at `epoch` (1-based), if it did. */
export function epochAuc(trial: Trial, seed: number, epoch: number): number | undefined {
  return trial.progress?.get(seed)?.[epoch - 1];
}
