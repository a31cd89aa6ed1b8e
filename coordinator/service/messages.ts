import {
  SweepState as WireSweepState,
  TrialState as WireTrialState,
  type Study as WireStudy,
  type Sweep as WireSweep,
  type Trial as WireTrial,
} from '../../proto/gen/cellsweep/v1/study.js';
import { toWireParams } from '../../core/params.js';
import type { Study, Trial } from '../study/sweep-state.js';
import type { SweepHandle } from './cluster-coordinator.js';

/** The protobuf views of coordinator state that StudyService returns. */

export function sweepMessage(sweep: SweepHandle, now = Date.now()): WireSweep {
  const { state } = sweep;
  return {
    sweepId: sweep.id,
    name: state.config.name,
    state: sweepStateOf(sweep),
    studies: [...state.studies.values()].map(studyMessage),
    createdUnix: state.createdAt / 1000,
    elapsedSeconds: ((sweep.endedAt ?? now) - state.createdAt) / 1000,
  };
}

export function sweepStateOf(sweep: SweepHandle): WireSweepState {
  if (sweep.error !== undefined) return WireSweepState.SWEEP_STATE_FAILED;
  switch (sweep.state.status) {
    case 'running':
      return WireSweepState.SWEEP_STATE_RUNNING;
    case 'complete':
      return WireSweepState.SWEEP_STATE_COMPLETE;
    case 'stopped':
      return WireSweepState.SWEEP_STATE_STOPPED;
  }
}

export function studyMessage(study: Study): WireStudy {
  const { config } = study;
  const { trialsDone, runsDone, best } = study.progress;
  const message: WireStudy = {
    name: config.name,
    dataset: config.dataset,
    model: config.model,
    sampler: config.sampler,
    trialsTotal: config.trials,
    trialsDone,
    runsDone,
    runsTotal: config.trials * config.seeds.length,
  };
  if (best !== undefined) message.best = trialMessage(best);
  return message;
}

export function trialMessage(trial: Trial): WireTrial {
  return {
    study: trial.study,
    number: trial.number,
    state: WireTrialState[`TRIAL_STATE_${trial.state}`],
    params: toWireParams(trial.params),
    auc: trial.auc === undefined ? undefined : { mean: trial.auc.mean, std: trial.auc.std },
    aupr: trial.aupr === undefined ? undefined : { mean: trial.aupr.mean, std: trial.aupr.std },
    runs: [...trial.runs.values()]
      .sort((a, b) => a.seed - b.seed)
      .map((r) => ({ seed: r.seed, ...(r.result === undefined ? {} : { result: r.result }), ...(r.failure === undefined ? {} : { failure: r.failure }) })),
    reason: trial.reason ?? '',
  };
}
