import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, childPids, cli, readJournal, runKey, startCli, tempDir, tinyDataset, waitFor } from './helpers.js';

/**
 * End to end through the real CLI: two trainer processes over real gRPC on
 * loopback, two studies on tiny synthetic data, the journal and outputs on disk.
 */
test('a local sweep with 2 trainers runs every (trial, seed) once and writes the per-study best', { timeout: 240_000 }, async () => {
  const dir = tempDir('e2e');
  await tinyDataset(join(dir, 'd1'), 'data1');
  await tinyDataset(join(dir, 'd6'), 'data6');
  writeFileSync(
    join(dir, 'sweep.yaml'),
    ['name: e2e', 'model: bulk-mlp', 'sampler: random', 'seed: 3', 'trials: 2', 'seeds: [42, 50]', 'fixed: {epochs: 2}', 'studies:', '  - dataset: d1', '  - dataset: d6'].join('\n'),
  );
  const out = join(dir, 'out');
  const res = await cli(['sweep', join(dir, 'sweep.yaml'), '--out', out, '--trainers', '2']);
  assert.equal(res.code, 0, res.stderr);

  const records = readJournal(out);
  const finished = records.filter((r) => r.op === 'run_finished');
  assert.equal(finished.length, 2 * 2 * 2);
  assert.equal(new Set(finished.map(runKey)).size, finished.length);
  for (const r of finished) {
    assert.equal(r.result.backend, 'wasm');
    assert.ok(r.result.auc >= 0 && r.result.auc <= 1);
  }
  const trainers = new Set(records.flatMap((r) => (r.op === 'run_started' ? [r.trainer] : [])));
  assert.deepEqual([...trainers].sort(), ['t1', 't2'], 'both trainer processes took runs');
  assert.equal(records.at(-1)!.op, 'sweep_finished');

  const best = JSON.parse(readFileSync(join(out, 'best.json'), 'utf8'));
  assert.deepEqual(
    best.studies.map((s: { study: string }) => s.study),
    ['d1', 'd6'],
  );
  for (const s of best.studies) {
    assert.equal(s.best.runs.length, 2);
    const mean = (s.best.runs[0].auc + s.best.runs[1].auc) / 2;
    assert.ok(Math.abs(s.best.auc.mean - mean) < 1e-12);
    assert.equal(s.best.settings.epochs, 2);
  }
  const csv = readFileSync(join(out, 'trials.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + 4);
  assert.match(csv[0]!, /^study,trial,state,depth,sampling,lr,auc_mean,auc_std,aupr_mean,aupr_std,runs_ok,runs_failed,auc_seed42,aupr_seed42,auc_seed50,aupr_seed50,reason$/);
  assert.match(res.stdout, /study\s+model\s+trials\s+runs\s+best AUC\s+best AUPR/);
  assert.match(res.stdout, /d6\s+bulk-mlp\s+2\/2\s+4\/4\s+0\.\d{3} ± 0\.\d{3}/);
  assert.deepEqual(readdirSync(out).filter((n) => n.endsWith('.tmp')), [], 'no temporary files left behind');

  // The same configurations and seeds give the same results: the whole sweep again, with one
  // trainer instead of two (so other processes, in another order), gives identical numbers.
  const again = await cli(['sweep', join(dir, 'sweep.yaml'), '--out', join(dir, 'out2'), '--trainers', '1']);
  assert.equal(again.code, 0, again.stderr);
  const results = (rs: typeof records) =>
    new Map(
      rs.flatMap((r) => {
        if (r.op !== 'run_finished') return [];
        const { trainSeconds: _t, loadSeconds: _l, trainerId: _i, ...rest } = r.result;
        return [[runKey(r), rest] as const];
      }),
    );
  assert.deepEqual(results(readJournal(join(dir, 'out2'))), results(records));
  const best2 = JSON.parse(readFileSync(join(dir, 'out2', 'best.json'), 'utf8'));
  assert.deepEqual(
    best2.studies.map((s: { best: { auc: unknown; aupr: unknown } }) => [s.best.auc, s.best.aupr]),
    best.studies.map((s: { best: { auc: unknown; aupr: unknown } }) => [s.best.auc, s.best.aupr]),
  );
});

test('kill -9 of the CLI mid-sweep, then --resume: completes, no finished run repeated, trainers do not linger', { timeout: 300_000 }, async () => {
  const dir = tempDir('e2e-resume');
  await tinyDataset(join(dir, 'd6'), 'data6');
  await tinyDataset(join(dir, 'd2'), 'data2');
  writeFileSync(
    join(dir, 'sweep.yaml'),
    ['name: resume', 'sampler: random', 'trials: 3', 'seeds: [42, 50, 60, 70, 80, 124]', 'fixed: {epochs: 4}', 'studies:', '  - dataset: d6', '  - dataset: d2'].join('\n'),
  );
  const out = join(dir, 'out');
  const first = startCli(['sweep', join(dir, 'sweep.yaml'), '--out', out, '--trainers', '2']);
  const cliPid = first.child.pid!;
  await waitFor('some finished runs', () => (existsSync(join(out, 'journal.jsonl')) && readJournal(out).filter((r) => r.op === 'run_finished').length >= 5 ? true : undefined), 120_000);
  const trainers = childPids(cliPid);
  assert.equal(trainers.length, 2, 'two trainer processes');
  first.child.kill('SIGKILL');
  const killed = await first.done;
  assert.equal(killed.signal, 'SIGKILL');
  // Trainers notice their parent is gone (stdin closes) and exit on their own.
  await waitFor('orphaned trainers to exit', () => (trainers.every((p) => !alive(p)) ? true : undefined), 15_000);

  const before = readJournal(out);
  const finishedBefore = new Set(before.flatMap((r) => (r.op === 'run_finished' ? [runKey(r)] : [])));
  assert.ok(finishedBefore.size >= 5 && finishedBefore.size < 36, `killed with ${finishedBefore.size} of 36 runs done`);
  assert.notEqual(before.at(-1)!.op, 'sweep_finished');

  const resumed = await cli(['sweep', '--resume', out, '--trainers', '2']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming sweep resume/);
  const after = readJournal(out).slice(before.length);
  for (const r of after) {
    if (r.op === 'run_started' || r.op === 'run_finished') assert.ok(!finishedBefore.has(runKey(r)), `${runKey(r)} finished before the kill and was trained again`);
  }
  const all = readJournal(out).filter((r) => r.op === 'run_finished');
  assert.equal(all.length, 36);
  assert.equal(new Set(all.map(runKey)).size, 36);
  const best = JSON.parse(readFileSync(join(out, 'best.json'), 'utf8'));
  assert.equal(best.status, 'complete');
  for (const s of best.studies) assert.equal(s.trials.complete, 3);
});

test('Ctrl-C stops cleanly: exit 130, a resumable journal, outputs written, no trainer left; --resume finishes', { timeout: 240_000 }, async () => {
  const dir = tempDir('e2e-sigint');
  await tinyDataset(join(dir, 'd6'), 'data6');
  writeFileSync(join(dir, 'sweep.yaml'), ['name: sigint', 'trials: 2', 'seeds: [42, 50, 60, 70]', 'fixed: {epochs: 6}', 'studies:', '  - dataset: d6'].join('\n'));
  const out = join(dir, 'out');
  const run = startCli(['sweep', join(dir, 'sweep.yaml'), '--out', out, '--trainers', '2']);
  await waitFor('a finished run', () => (existsSync(join(out, 'journal.jsonl')) && readJournal(out).some((r) => r.op === 'run_finished') ? true : undefined), 120_000);
  const trainers = childPids(run.child.pid!);
  // As a terminal's Ctrl-C: SIGINT to the whole foreground process group.
  process.kill(-run.child.pid!, 'SIGINT');
  const res = await run.done;
  assert.equal(res.code, 130, res.stderr);
  assert.match(res.stderr, /stopping: cancelling running runs/);
  assert.match(res.stderr, new RegExp(`resume with: cellsweep sweep --resume ${out.replaceAll('/', '\\/')}`));
  assert.ok(trainers.length === 2 && trainers.every((p) => !alive(p)), 'trainers stopped with the CLI');
  const records = readJournal(out);
  const last = records.at(-1)!;
  assert.equal(last.op, 'sweep_stopped');
  assert.ok(existsSync(join(out, 'trials.csv')) && existsSync(join(out, 'best.json')));
  // Cancelled runs are not failures: nothing was recorded as failed.
  assert.equal(records.filter((r) => r.op === 'run_failed').length, 0);

  const resumed = await cli(['sweep', '--resume', out, '--trainers', '2']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const finished = readJournal(out).filter((r) => r.op === 'run_finished');
  assert.equal(finished.length, 8);
  assert.equal(new Set(finished.map(runKey)).size, 8);
});

test('a sweep whose trainers cannot start fails with the reason, writes its result files and says how to resume', { timeout: 120_000 }, async () => {
  const dir = tempDir('e2e-fatal');
  await tinyDataset(join(dir, 'd6'), 'data6');
  writeFileSync(join(dir, 'sweep.yaml'), ['name: fatal', 'trials: 1', 'seeds: [42]', 'fixed: {epochs: 1}', 'studies:', '  - dataset: d6'].join('\n'));
  const out = join(dir, 'out');
  // tfjs-node cannot be installed here (PLATFORM.md): a trainer asked for it exits before it serves.
  const res = await cli(['sweep', join(dir, 'sweep.yaml'), '--out', out, '--trainers', '1', '--backend', 'tensorflow']);
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /trainer t1 ended \(exit code \d+\) before it was ready/);
  assert.match(res.stderr, new RegExp(`resume with: cellsweep sweep --resume ${out.replaceAll('/', '\\/')}`));
  assert.ok(existsSync(join(out, 'trials.csv')) && existsSync(join(out, 'best.json')), 'result files written');
  assert.equal(readJournal(out)[0]!.op, 'sweep_created');
});
