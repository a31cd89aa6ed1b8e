import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileJournal } from '../../coordinator/journal/file-journal.js';
import { replay } from '../../coordinator/journal/replay.js';
import type { JournalRecord } from '../../coordinator/journal/records.js';
import { bestTrial } from '../../coordinator/study/aggregate.js';

const fixture = new URL('../fixtures/journal-v1.jsonl', import.meta.url);

function tempFile(name = 'journal.jsonl'): string {
  return join(mkdtempSync(join(tmpdir(), 'cellsweep-journal-')), name);
}

test('a checked-in v1 journal still replays to the same state (format compatibility)', () => {
  const text = readFileSync(fixture, 'utf8');
  const state = replay(text.trim().split('\n').map((l) => JSON.parse(l) as JournalRecord));
  assert.equal(state.status, 'complete');
  const study = state.studies.get('tiny')!;
  assert.equal(study.trials.length, 2);
  assert.equal(study.trials[0]!.state, 'COMPLETE');
  assert.equal(study.trials[1]!.state, 'FAIL');
  assert.match(study.trials[1]!.reason!, /^seed 50 failed: loss term "bce" became NaN/);
  assert.equal(bestTrial(study)!.number, 0);
  assert.ok(Math.abs(study.trials[0]!.auc!.mean - 0.75) < 1e-12);
});

test('appends are durable and read back in order; a reopened journal has them all', async () => {
  const path = tempFile();
  const lines = readFileSync(fixture, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as JournalRecord);
  const j = await FileJournal.open(path, { create: true });
  await Promise.all(lines.map((r) => j.append([r])));
  assert.equal((await j.read()).length, lines.length);
  assert.deepEqual(await j.read(3), lines.slice(3));
  await j.close();
  const again = await FileJournal.open(path, { create: false });
  assert.deepEqual(await again.read(), lines);
  assert.equal(again.repaired, undefined);
  await again.close();
});

test('a torn last line (killed mid-write) is dropped and truncated; appends continue cleanly', async () => {
  const path = tempFile();
  copyFileSync(fixture, path);
  const good = readFileSync(path, 'utf8');
  appendFileSync(path, '{"op":"run_finished","t":17,"study":"ti');
  const j = await FileJournal.open(path, { create: false });
  assert.match(j.repaired!, /dropped a torn last record at line 1[0-9]/);
  assert.equal(readFileSync(path, 'utf8'), good);
  await j.append([{ op: 'sweep_stopped', t: 99, reason: 'test' }]);
  await j.close();
  const text = readFileSync(path, 'utf8');
  assert.ok(text.startsWith(good));
  assert.equal(JSON.parse(text.trim().split('\n').at(-1)!).op, 'sweep_stopped');
});

test('corruption before the last line is an error naming the line, not silently skipped', async () => {
  const path = tempFile();
  const lines = readFileSync(fixture, 'utf8').split('\n');
  lines[2] = '{"op": broken';
  writeFileSync(path, lines.join('\n'));
  await assert.rejects(FileJournal.open(path, { create: false }), /journal\.jsonl:3: corrupt record/);
});

test('replay rejects journals that do not start with sweep_created or skip trials', () => {
  assert.throws(() => replay([{ op: 'sweep_finished', t: 1 }]), /does not start with a sweep_created record/);
  const [created] = readFileSync(fixture, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as JournalRecord);
  assert.throws(() => replay([created!, { op: 'trial_asked', t: 1, study: 'tiny', trial: 5, params: {} }]), /trial 5 of study 'tiny' asked out of order \(expected 0\)/);
  assert.throws(() => replay([created!, { op: 'trial_asked', t: 1, study: 'nope', trial: 0, params: {} }]), /unknown study 'nope'/);
});
