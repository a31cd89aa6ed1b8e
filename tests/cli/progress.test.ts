import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressDisplay } from '../../cli/progress.js';
import type { SweepConfig } from '../../coordinator/config/sweep-config.js';
import type { JournalRecord } from '../../coordinator/journal/records.js';
import { applyRecord, replay } from '../../coordinator/journal/replay.js';

const RESULT = { auc: 0.7, aupr: 0.6, backend: 'x', trainSeconds: 1, loadSeconds: 0, epochs: 1, finalLosses: {}, bulkSamples: 1, cells: 1, genes: 1, trainerId: 'x' };

/** A terminal as the display sees one; what it writes is kept (the display, not a terminal, is under test). */
function terminal(): { out: NodeJS.WriteStream; last(): string } {
  let text = '';
  const out = { isTTY: true, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  // The block drawn last: everything after the last cursor-up-and-clear.
  return { out, last: () => text.slice(text.lastIndexOf('\x1b[J') + 3) };
}

test('the live view drops a pruned trial\'s cancelled runs and leaves their seeds out of the run count', () => {
  const config: SweepConfig = {
    name: 'p',
    source: 'test',
    studies: [{ name: 's', dataset: '/d', model: 'bulk-mlp', space: { params: [] }, fixed: {}, trials: 2, seeds: [1, 2, 3], sampler: 'random', samplerSeed: 0 }],
  };
  const state = replay([{ op: 'sweep_created', v: 1, t: 0, sweepId: 'id', config }]);
  const term = terminal();
  const display = new ProgressDisplay(state, term.out);
  const apply = (record: JournalRecord): void => {
    applyRecord(state, record);
    display.onRecord(record);
  };
  apply({ op: 'trial_asked', t: 1, study: 's', trial: 0, params: {} });
  apply({ op: 'run_started', t: 2, study: 's', trial: 0, seed: 1, trainer: 't1', attempt: 1 });
  apply({ op: 'run_started', t: 2, study: 's', trial: 0, seed: 2, trainer: 't2', attempt: 1 });
  apply({ op: 'run_finished', t: 3, study: 's', trial: 0, seed: 1, result: RESULT });
  display.stop();
  assert.match(term.last(), /runs 1\/6,/);
  assert.match(term.last(), /t2: s\/0\/2/);
  // Pruned after one seed: its running seed 2 is cancelled, seed 3 never trains.
  apply({ op: 'trial_finished', t: 4, study: 's', trial: 0, state: 'PRUNED', reason: 'test' });
  display.stop();
  assert.doesNotMatch(term.last(), /t2:/);
  assert.match(term.last(), /runs 1\/4,/);
});
