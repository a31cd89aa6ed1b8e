import { JournalError } from '../../core/errors.js';
import { compareTrials, judgeTrial, summarizeTrial } from '../study/aggregate.js';
import type { SweepState, Trial } from '../study/sweep-state.js';
import type { JournalRecord } from './records.js';
import { JOURNAL_FORMAT_VERSION } from './records.js';

/** Rebuilds a sweep's state from its whole journal. */
export function replay(records: readonly JournalRecord[], file = 'journal'): SweepState {
  const first = records[0];
  if (first === undefined || first.op !== 'sweep_created') {
    throw new JournalError('the journal does not start with a sweep_created record', { file, line: 1 });
  }
  const state = createState(first, file);
  for (let i = 1; i < records.length; i++) applyRecord(state, records[i] as JournalRecord, { file, line: i + 1 });
  return state;
}

export function createState(record: JournalRecord, file = 'journal'): SweepState {
  if (record.op !== 'sweep_created') throw new JournalError('expected a sweep_created record first', { file, line: 1 });
  if (record.v > JOURNAL_FORMAT_VERSION) {
    throw new JournalError(`journal format v${record.v} is newer than this cellsweep understands (v${JOURNAL_FORMAT_VERSION})`, { file, line: 1 });
  }
  return {
    sweepId: record.sweepId,
    config: record.config,
    createdAt: record.t,
    studies: new Map(record.config.studies.map((s) => [s.name, { config: s, trials: [], progress: { trialsDone: 0, runsDone: 0 } }])),
    status: 'running',
  };
}

/**
 * The only place sweep state changes: one handler per record type. Live
 * events and replayed ones go through here alike, so a resumed coordinator
 * sees exactly what the killed one saw. Repeated run results are ignored.
 */
export function applyRecord(state: SweepState, record: JournalRecord, where: { file: string; line?: number } = { file: 'journal' }): void {
  switch (record.op) {
    case 'sweep_created':
      throw new JournalError('a second sweep_created record', where);
    case 'trial_asked': {
      const study = studyOf(state, record.study, where);
      if (record.trial !== study.trials.length) {
        throw new JournalError(`trial ${record.trial} of study '${record.study}' asked out of order (expected ${study.trials.length})`, where);
      }
      study.trials.push({
        study: record.study,
        number: record.trial,
        // A trial's configuration never changes; frozen, samplers may keep what they computed from it (tpe/history-cache.ts).
        params: Object.freeze({ ...record.params }),
        state: 'RUNNING',
        runs: new Map(),
      });
      // Journals written before sweep_resumed existed say a stopped sweep runs again only by asking.
      if (state.status === 'stopped') resume(state);
      return;
    }
    case 'run_started':
      // Informational (which trainer, which attempt): an unfinished run is re-dispatched on resume anyway.
      trialOf(state, record.study, record.trial, where);
      return;
    case 'run_progress': {
      const trial = trialOf(state, record.study, record.trial, where);
      if (trial.state !== 'RUNNING') return;
      trial.progress ??= new Map();
      let epochs = trial.progress.get(record.seed);
      if (epochs === undefined) trial.progress.set(record.seed, (epochs = []));
      // A re-dispatched run reports its epochs again: the latest report stands.
      epochs[record.epoch - 1] = record.auc;
      return;
    }
    case 'run_finished':
    case 'run_failed': {
      const study = studyOf(state, record.study, where);
      const trial = trialOf(state, record.study, record.trial, where);
      if (trial.runs.has(record.seed) || trial.state !== 'RUNNING') return;
      trial.runs.set(record.seed, record.op === 'run_finished' ? { seed: record.seed, result: record.result } : { seed: record.seed, failure: record.failure });
      study.progress.runsDone++;
      summarizeTrial(trial);
      return;
    }
    case 'trial_finished': {
      const { progress } = studyOf(state, record.study, where);
      const trial = trialOf(state, record.study, record.trial, where);
      if (trial.state !== 'RUNNING') return;
      trial.state = record.state;
      if (record.reason !== undefined) trial.reason = record.reason;
      summarizeTrial(trial);
      progress.trialsDone++;
      if (trial.state === 'COMPLETE' && (progress.best === undefined || compareTrials(trial, progress.best) < 0)) progress.best = trial;
      return;
    }
    case 'sweep_stopped':
      state.status = 'stopped';
      state.stopReason = record.reason;
      return;
    case 'sweep_resumed':
      resume(state);
      return;
    case 'sweep_finished':
      state.status = 'complete';
      return;
  }
}

function resume(state: SweepState): void {
  state.status = 'running';
  delete state.stopReason;
}

/** Whether every seed of `trial` has an outcome, and what the trial's verdict is then. */
export function trialVerdict(trial: Trial, seeds: readonly number[]): ReturnType<typeof judgeTrial> | undefined {
  if (!seeds.every((s) => trial.runs.has(s))) return undefined;
  return judgeTrial(trial.runs.values());
}

function studyOf(state: SweepState, name: string, where: { file: string; line?: number }) {
  const study = state.studies.get(name);
  if (study === undefined) throw new JournalError(`record for unknown study '${name}'`, where);
  return study;
}

function trialOf(state: SweepState, studyName: string, number: number, where: { file: string; line?: number }): Trial {
  const trial = studyOf(state, studyName, where).trials[number];
  if (trial === undefined) throw new JournalError(`record for trial ${number} of study '${studyName}', which was never asked`, where);
  return trial;
}
