import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { FileJournal } from '../../coordinator/journal/file-journal.js';
import { replay } from '../../coordinator/journal/replay.js';
import type { JournalRecord } from '../../coordinator/journal/records.js';

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
  assert.equal(study.progress.best!.number, 0);
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

test('a torn multi-byte (UTF-8) last line is cut at the right byte offset', async () => {
  const path = tempFile();
  copyFileSync(fixture, path);
  const good = readFileSync(path, 'utf8');
  await (async () => {
    const j = await FileJournal.open(path, { create: false });
    await j.append([{ op: 'sweep_stopped', t: 5, reason: 'arrêt demandé — Ωμέγα 数据' }]);
    await j.close();
  })();
  const withNonAscii = readFileSync(path);
  // Cut in the middle of a multi-byte character of the last record.
  writeFileSync(path, withNonAscii.subarray(0, withNonAscii.length - 6));
  const j = await FileJournal.open(path, { create: false });
  assert.match(j.repaired!, /torn last record/);
  assert.equal(readFileSync(path, 'utf8'), good);
  await j.close();
});

test('one writer at a time: a second open of a live journal is refused; a dead holder\'s lock is taken over', async () => {
  const path = tempFile();
  const first = await FileJournal.open(path, { create: true });
  writeFileSync(`${path}.lock`, '1\n'); // pid 1 is alive (init): a live holder
  await assert.rejects(FileJournal.open(path, { create: false }), /journal\.jsonl\.lock: the sweep is in use by process 1/);
  writeFileSync(`${path}.lock`, '999999999\n'); // no such process: stale
  const second = await FileJournal.open(path, { create: false });
  assert.equal(readFileSync(`${path}.lock`, 'utf8'), `${process.pid}\n`);
  await second.close();
  await first.close();
  // A takeover killed halfway leaves its guard: the next open removes it with the stale lock.
  writeFileSync(`${path}.lock`, '999999999\n');
  writeFileSync(`${path}.lock.takeover`, '999999998\n');
  const third = await FileJournal.open(path, { create: false });
  assert.deepEqual(readdirSync(dirname(path)).filter((f) => f.includes('.lock')), [`${basename(path)}.lock`]);
  await third.close();
  // A live takeover in progress is waited for, not removed: this one never ends, so the open gives up naming it.
  writeFileSync(`${path}.lock`, '999999999\n');
  writeFileSync(`${path}.lock.takeover`, '1\n');
  await assert.rejects(FileJournal.open(path, { create: false }), /journal\.jsonl\.lock\.takeover: a takeover of the stale lock by process 1 has not finished/);
});

test('a failed append (file size limit) is reported, later appends are refused, and the file stays replayable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cellsweep-journal-limit-'));
  const script = join(dir, 'append.mts');
  const path = join(dir, 'journal.jsonl');
  writeFileSync(
    script,
    [
      `import { FileJournal } from ${JSON.stringify(new URL('../../coordinator/journal/file-journal.ts', import.meta.url).pathname)};`,
      `const j = await FileJournal.open(${JSON.stringify(path)}, { create: true });`,
      `const out: string[] = [];`,
      `for (let i = 0; i < 6; i++) {`,
      `  try { await j.append([{ op: 'sweep_stopped', t: i, reason: 'x'.repeat(400) }]); out.push('ok'); }`,
      `  catch (err) { out.push((err as Error).message.includes('an earlier append failed') ? 'refused' : 'failed'); }`,
      `}`,
      `await j.close();`,
      `console.log(out.join(','));`,
    ].join('\n'),
  );
  const { execFileSync } = await import('node:child_process');
  // bash counts -f in 1024-byte blocks: two records of ~440 bytes fit, the third does not.
  const out = execFileSync('bash', ['-c', `ulimit -f 1; exec node --import tsx ${script}`], { encoding: 'utf8', cwd: join(fixture.pathname, '../../..') });
  assert.equal(out.trim(), 'ok,ok,failed,refused,refused,refused');
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\n'));
  assert.equal(text.trim().split('\n').length, 2);
  const reopened = await FileJournal.open(path, { create: false });
  assert.equal((await reopened.read()).length, 2);
  assert.equal(reopened.repaired, undefined);
  await reopened.close();
});
