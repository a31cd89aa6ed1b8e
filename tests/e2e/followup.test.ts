import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { cli, readJournal, tempDir, tinyDataset } from './helpers.js';

/**
 * cellsweep followup writes a sweep that re-runs a finished sweep's best
 * configuration (fresh seeds, target subsamples, l1/l2 ablation); run through
 * the real CLI and trainers, report --all-trials reads it back.
 */
test('followup: a sweep of the best configuration with fresh seeds, 80% target subsamples and the ablation, run and reported', { timeout: 300_000 }, async () => {
  const dir = tempDir('followup');
  await tinyDataset(join(dir, 'd6'), 'data6');
  writeFileSync(
    join(dir, 'sweep.yaml'),
    ['name: fu', 'model: sctl', 'space: sctl-paper', 'sampler: random', 'trials: 2', 'seeds: [42, 50]', 'fixed: {iterations: 8, encoder_hidden: 16}', 'studies:', '  - dataset: d6'].join('\n'),
  );
  const out = join(dir, 'out');
  const first = await cli(['sweep', join(dir, 'sweep.yaml'), '--out', out, '--trainers', '2']);
  assert.equal(first.code, 0, first.stderr);
  const best = JSON.parse(readFileSync(join(out, 'best.json'), 'utf8')).studies[0].best;

  const wrote = await cli(['followup', out, '--seeds', '3', '--subsamples', '2']);
  assert.equal(wrote.code, 0, wrote.stderr);
  assert.match(wrote.stdout, /: 3 studies, 13 runs\n/);
  const file = join(out, 'followup.yaml');
  const sweep = parse(readFileSync(file, 'utf8'));
  const [seeds, subsamples, ablation] = sweep.studies;
  assert.deepEqual(
    sweep.studies.map((s: { name: string }) => s.name),
    ['d6-seeds', 'd6-subsamples', 'd6-ablation'],
  );
  assert.deepEqual(seeds.fixed, best.settings, 'the best configuration, every setting');
  assert.equal(new Set(seeds.seeds).size, 3);
  assert.deepEqual({ ...subsamples.fixed, target_fraction: undefined }, { ...best.settings, target_fraction: undefined });
  assert.equal(subsamples.fixed.target_fraction, 0.8);
  assert.deepEqual(ablation.space.l1.choices, [best.settings.l1, 0]);
  assert.deepEqual(ablation.seeds, [42, 50]);

  const again = await cli(['followup', out]);
  assert.equal(again.code, 2, 'an existing follow-up file is not overwritten');
  assert.match(again.stderr, /followup\.yaml: the file exists; pass --force/);

  const followOut = join(out, 'followup');
  const ran = await cli(['sweep', file, '--out', followOut, '--trainers', '2']);
  assert.equal(ran.code, 0, ran.stderr);
  const finished = readJournal(followOut).filter((r) => r.op === 'run_finished');
  assert.equal(finished.length, 13);
  const cells = (study: string): number[] => [...new Set(finished.filter((r) => r.study === study).map((r) => r.result.cells))];
  const all = cells('d6-seeds');
  assert.equal(all.length, 1);
  assert.deepEqual(cells('d6-subsamples'), [Math.round(0.8 * all[0]!)]);

  const report = await cli(['report', followOut, '--all-trials']);
  assert.equal(report.code, 0, report.stderr);
  assert.match(report.stdout, /d6-seeds \(sctl, 1 of 1 trials complete\)\n.*\n  #0 +3 +\d\.\d{3} ± \d\.\d{3}/);
  assert.match(report.stdout, /d6-subsamples \(sctl, 2 of 2 trials complete\)[\s\S]*over the 2 trials: AUC \d\.\d{3} ± \d\.\d{3}, AUPR/);
  assert.match(report.stdout, /d6-ablation \(sctl, 4 of 4 trials complete\)[\s\S]*l1=0 l2=0/);
});

test('followup: bad input names the option or the directory', { timeout: 60_000 }, async () => {
  const dir = tempDir('followup-bad');
  const missing = await cli(['followup', join(dir, 'nothing')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nothing/);
  for (const [args, pattern] of [
    [['--fraction', '1'], /--fraction.*\[0\.05, 1\)/],
    [['--subsamples', '1'], /--subsamples.*>= 2/],
    [['--seeds', 'x'], /--seeds.*an integer >= 1/],
    [['--subsamples', 'x'], /--subsamples.*an integer >= 2/],
  ] as const) {
    const res = await cli(['followup', dir, ...args]);
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    assert.match(res.stderr, pattern);
  }
});
