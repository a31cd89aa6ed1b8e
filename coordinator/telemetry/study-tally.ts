import type { TrialState } from '../samplers/sampler.js';
import type { Study, Trial } from '../study/sweep-state.js';

export type RunCounts = { queued: number; running: number; finished: number; failed: number };

/**
 * A study's counts for Prometheus, kept up to date record by record so that a
 * scrape costs O(open trials), not O(all trials): a closed trial never
 * changes again, so it is counted once, when it closes, and only the open
 * ones (at most as many as runs in flight) are looked at on each scrape.
 */
export class StudyTally {
  private readonly closed: Record<TrialState, number> = { WAITING: 0, RUNNING: 0, COMPLETE: 0, PRUNED: 0, FAIL: 0 };
  private readonly closedRuns = { finished: 0, failed: 0 };
  private readonly open = new Set<Trial>();

  /** Starts from the study as it is now (a replayed journal, or a sweep that ended before metrics began). */
  constructor(readonly study: Study) {
    for (const trial of study.trials) this.asked(trial);
  }

  /** A new trial (trial_asked). */
  asked(trial: Trial): void {
    if (trial.state === 'RUNNING' || trial.state === 'WAITING') this.open.add(trial);
    else this.close(trial);
  }

  /** A trial's verdict was recorded (trial_finished); a repeated verdict changes nothing. */
  finished(trial: Trial): void {
    if (trial.state !== 'RUNNING' && trial.state !== 'WAITING' && this.open.delete(trial)) this.close(trial);
  }

  trials(): Record<TrialState, number> {
    const counts = { ...this.closed };
    for (const trial of this.open) counts[trial.state]++;
    return counts;
  }

  /** Runs by state; `started` tells a run on a trainer from a queued one. Open trials' runs are queued or running only while the sweep runs. */
  runs(started: (trial: Trial, seed: number) => boolean, sweepRunning: boolean): RunCounts {
    const counts: RunCounts = { queued: 0, running: 0, ...this.closedRuns };
    for (const trial of this.open) {
      for (const outcome of trial.runs.values()) counts[outcome.result === undefined ? 'failed' : 'finished']++;
      if (!sweepRunning) continue;
      for (const seed of this.study.config.seeds) if (!trial.runs.has(seed)) counts[started(trial, seed) ? 'running' : 'queued']++;
    }
    return counts;
  }

  private close(trial: Trial): void {
    this.closed[trial.state]++;
    for (const outcome of trial.runs.values()) this.closedRuns[outcome.result === undefined ? 'failed' : 'finished']++;
  }
}
