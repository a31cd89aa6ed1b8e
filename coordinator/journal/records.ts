import type { RunFailure, RunResult } from '../../proto/gen/cellsweep/v1/run.js';
import type { ParamValue } from '../../core/params.js';
import type { SweepConfig } from '../config/sweep-config.js';

/**
 * The journal is the source of truth of a sweep: one record per state change,
 * appended and synced before the coordinator acts on it. State is rebuilt
 * only by replaying these records (see replay.ts), live or after a restart.
 *
 * Records are JSON lines. The format is versioned by `v` in `sweep_created`;
 * tests replay a checked-in journal so old sweeps stay resumable.
 */
export const JOURNAL_FORMAT_VERSION = 1;

export type JournalRecord =
  | SweepCreated
  | TrialAsked
  | RunStarted
  | RunProgressed
  | RunFinished
  | RunFailed
  | TrialFinished
  | SweepStopped
  | SweepResumed
  | SweepFinished;

export interface SweepCreated {
  op: 'sweep_created';
  v: number;
  t: number;
  sweepId: string;
  config: SweepConfig;
}

export interface TrialAsked {
  op: 'trial_asked';
  t: number;
  study: string;
  trial: number;
  params: Record<string, ParamValue>;
}

/** Informational (which trainer took it, which attempt); resume re-dispatches started-but-unfinished runs. */
export interface RunStarted {
  op: 'run_started';
  t: number;
  study: string;
  trial: number;
  seed: number;
  trainer: string;
  attempt: number;
}

/** A run's cell AUC after an epoch, recorded when a pruner acts on it. */
export interface RunProgressed {
  op: 'run_progress';
  t: number;
  study: string;
  trial: number;
  seed: number;
  epoch: number;
  auc: number;
}

export interface RunFinished {
  op: 'run_finished';
  t: number;
  study: string;
  trial: number;
  seed: number;
  result: RunResult;
}

export interface RunFailed {
  op: 'run_failed';
  t: number;
  study: string;
  trial: number;
  seed: number;
  failure: RunFailure;
}

export interface TrialFinished {
  op: 'trial_finished';
  t: number;
  study: string;
  trial: number;
  state: 'COMPLETE' | 'PRUNED' | 'FAIL';
  reason?: string;
}

/** The sweep was interrupted (Ctrl-C, StopSweep); `--resume` continues it. */
export interface SweepStopped {
  op: 'sweep_stopped';
  t: number;
  reason: string;
}

/**
 * A stopped sweep runs again (`--resume`, a restarted coordinator). Without
 * it a sweep whose every trial was already asked would read as stopped
 * until it finished.
 */
export interface SweepResumed {
  op: 'sweep_resumed';
  t: number;
}

export interface SweepFinished {
  op: 'sweep_finished';
  t: number;
}
