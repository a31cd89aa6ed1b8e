import type { RunFailure, RunResult } from '../../proto/gen/cellsweep/v1/run.js';
import type { ParamValue } from '../../core/params.js';
import type { MetricSummary } from '../../core/stats.js';
import type { StudyConfig, SweepConfig } from '../config/sweep-config.js';
import type { TrialState } from '../samplers/sampler.js';

/** The outcome of one (trial, seed) run; exactly one of the two is set. */
export interface RunOutcome {
  seed: number;
  result?: RunResult;
  failure?: RunFailure;
}

export interface Trial {
  study: string;
  number: number;
  params: Record<string, ParamValue>;
  state: TrialState;
  /** Finished runs by seed. A result that arrives twice is kept once. */
  runs: Map<number, RunOutcome>;
  reason?: string;
  /** Cell AUC after each epoch (index = epoch - 1) by seed, when the study's pruner asks for it. */
  progress?: Map<number, number[]>;
  auc?: MetricSummary;
  aupr?: MetricSummary;
}

export interface Study {
  config: StudyConfig;
  trials: Trial[];
  /** Kept record by record (applyRecord), so that GetSweep and watchers' snapshots do not walk every trial. */
  progress: StudyProgress;
}

export interface StudyProgress {
  /** Trials with a verdict (COMPLETE, PRUNED or FAIL). */
  trialsDone: number;
  /** Runs with an outcome, in any trial. */
  runsDone: number;
  /** The best COMPLETE trial (compareTrials), once there is one. */
  best?: Trial;
}

export type SweepStatus = 'running' | 'stopped' | 'complete';

/** Everything the journal says about a sweep, rebuilt by replay. */
export interface SweepState {
  sweepId: string;
  config: SweepConfig;
  createdAt: number;
  studies: Map<string, Study>;
  status: SweepStatus;
  /** Why the sweep last stopped (sweep_stopped), while it is stopped. */
  stopReason?: string;
}
