import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSweepFile, parseSweep } from '../../coordinator/config/load-sweep.js';
import { createSampler } from '../../coordinator/samplers/index.js';
import { DEFAULT_TPE_OPTIONS, TPE_PRESETS, TpeSampler } from '../../coordinator/samplers/tpe/index.js';

test('defaults: bulk-mlp built-in space, random sampler, 20 trials, the paper seeds; per-study overrides win', () => {
  const config = parseSweep(
    ['name: s', 'trials: 4', 'fixed: {epochs: 3}', 'studies:', '  - dataset: a', '  - dataset: ../b', '    name: bee', '    trials: 2', '    seeds: [1, 2]', '    sampler: grid', '    space: {depth: {type: int, low: 2, high: 3}}'].join('\n'),
    'sweep.yaml',
    '/work/sweeps',
  );
  assert.equal(config.name, 's');
  const [a, b] = config.studies;
  assert.equal(a!.name, 'a');
  assert.equal(a!.dataset, '/work/sweeps/a');
  assert.equal(a!.model, 'bulk-mlp');
  assert.equal(a!.sampler, 'random');
  assert.equal(a!.trials, 4);
  assert.deepEqual(a!.seeds, [42, 50, 60, 70, 80, 124]);
  assert.deepEqual(a!.fixed, { epochs: 3 });
  assert.deepEqual(
    a!.space.params.map(([n]) => n),
    ['depth', 'sampling', 'lr'],
  );
  assert.equal(b!.name, 'bee');
  assert.equal(b!.dataset, '/work/b');
  assert.equal(b!.trials, 2);
  assert.deepEqual(b!.seeds, [1, 2]);
  assert.equal(b!.sampler, 'grid');
});

test('a grid study defaults to the whole grid and cannot ask for more', () => {
  const config = parseSweep('sampler: grid\nspace: {depth: {type: int, low: 2, high: 6}}\nstudies:\n  - dataset: a\n', 's.yaml', '/');
  assert.equal(config.studies[0]!.trials, 5);
  assert.throws(
    () => parseSweep('sampler: grid\ntrials: 9\nspace: {depth: {type: int, low: 2, high: 6}}\nstudies:\n  - dataset: a\n', 's.yaml', '/'),
    /s\.yaml:2, field 'trials': asks for 9 trials but the grid sampler has only 5 distinct configurations/,
  );
  assert.throws(
    () => parseSweep('sampler: grid\nspace: {lr: {type: float, low: 0.001, high: 0.1}}\nstudies:\n  - dataset: a\n', 's.yaml', '/'),
    /float parameter 'lr' has no finite grid/,
  );
});

test('bad sweep files: each error names the file, the line and the field', () => {
  const cases: Array<[string, RegExp]> = [
    ['studies: []\n', /s\.yaml:1, field 'studies': expected a non-empty list of studies/],
    ['model: bulk-mlp\n', /s\.yaml:1, field 'studies': expected a non-empty list/],
    ['modle: bulk-mlp\nstudies:\n  - dataset: a\n', /s\.yaml:1, field 'modle': unknown key 'modle'/],
    ['model: sctl9\nstudies:\n  - dataset: a\n', /s\.yaml:1, field 'model': expected a model family \(bulk-mlp, sctl, sleep\), but got "sctl9"/],
    ['sampler: tpe9\nstudies:\n  - dataset: a\n', /s\.yaml:1, field 'sampler': expected a sampler \(random, grid, tpe\), but got "tpe9"/],
    ['sampler: tpe\nsampler_options: {n_startup_trials: -1}\nstudies:\n  - dataset: a\n', /s\.yaml:2, field 'sampler_options\.n_startup_trials': expected an integer >= 0, but got -1/],
    ['sampler: tpe\nsampler_options: {gamma: 3}\nstudies:\n  - dataset: a\n', /s\.yaml:2, field 'sampler_options\.gamma': unknown TPE option 'gamma'/],
    ['sampler: random\nsampler_options: {multivariate: true}\nstudies:\n  - dataset: a\n', /field 'sampler_options': the random sampler takes no options/],
    ['trials: 0\nstudies:\n  - dataset: a\n', /s\.yaml:1, field 'trials': expected an integer >= 1, but got 0/],
    ['seeds: [1, 1]\nstudies:\n  - dataset: a\n', /s\.yaml:1, field 'seeds\[1\]': duplicated seed 1/],
    ['seeds: [1, x]\nstudies:\n  - dataset: a\n', /field 'seeds\[1\]': expected an integer from 0 to 4294967295, but got "x"/],
    // Seeds are uint32 on the wire: 4294967338 would arrive as 42.
    ['seeds: [42, 4294967338]\nstudies:\n  - dataset: a\n', /s\.yaml:1, field 'seeds\[1\]': expected an integer from 0 to 4294967295, but got 4294967338/],
    ['seed: 4294967296\nstudies:\n  - dataset: a\n', /s\.yaml:1, field 'seed': expected an integer from 0 to 4294967295, but got 4294967296/],
    ['studies:\n  - name: x\n', /s\.yaml:2, field 'studies\[0\]\.dataset': expected a dataset directory/],
    ['studies:\n  - dataset: a\n  - dataset: b/a\n', /s\.yaml:3, field 'studies\[1\]\.name': duplicated study name 'a'/],
    ['studies:\n  - dataset: a\n    epochs: 3\n', /s\.yaml:3, field 'studies\[0\]\.epochs': unknown key 'epochs'/],
    ['fixed: {epochz: 3}\nstudies:\n  - dataset: a\n', /s\.yaml:1, field 'fixed\.epochz': model 'bulk-mlp' has no setting 'epochz'/],
    ['fixed: {epochs: 0}\nstudies:\n  - dataset: a\n', /s\.yaml:1, field 'fixed\.epochs': expected an integer >= 1, but got 0/],
    ['fixed: {lr: .nan}\nstudies:\n  - dataset: a\n', /field 'fixed\.lr': expected a number, text or true\/false, but got/],
    ['- just\n- a list\n', /s\.yaml:1, field '\(top\)': expected a mapping at the top of the sweep file/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseSweep(text, 's.yaml', '/'), message, text);
});

test('an unreadable sweep file is one clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cellsweep-config-'));
  assert.throws(() => loadSweepFile(join(dir, 'missing.yaml')), /missing\.yaml: cannot read the sweep file: ENOENT/);
  writeFileSync(join(dir, 'ok.yaml'), 'studies:\n  - dataset: data/x\n');
  const config = loadSweepFile(join(dir, 'ok.yaml'));
  assert.equal(config.name, 'ok');
  assert.equal(config.studies[0]!.dataset, join(dir, 'data/x'));
});

test('a TPE study keeps its options (snake_case, as docs/tpe.md) for the sampler', () => {
  const config = parseSweep('sampler: tpe\nsampler_options: {n_startup_trials: 4, startup_design: latin-hypercube}\nstudies:\n  - dataset: a\n', 's.yaml', '/');
  const study = config.studies[0]!;
  assert.equal(study.sampler, 'tpe');
  assert.deepEqual(study.samplerOptions, { n_startup_trials: 4, startup_design: 'latin-hypercube' });
});

test('a TPE preset in a sweep file reaches the sampler, with the options named beside it on top', () => {
  const study = parseSweep('sampler: tpe\nsampler_options: {preset: [parallel-pool, small-grid], n_startup_trials: 6}\nstudies:\n  - dataset: a\n', 's.yaml', '/').studies[0]!;
  const sampler = createSampler(study.sampler, study.samplerSeed, study.samplerOptions);
  assert.ok(sampler instanceof TpeSampler);
  assert.deepEqual(sampler.options, { ...DEFAULT_TPE_OPTIONS, ...TPE_PRESETS['parallel-pool'], ...TPE_PRESETS['small-grid'], nStartupTrials: 6 });
  assert.throws(() => parseSweep('sampler: tpe\nstudies:\n  - dataset: a\n    sampler_options: {preset: grid}\n', 's.yaml', '/'), /s\.yaml:4, field 'studies\[0\]\.sampler_options\.preset': expected a TPE preset \(optuna, parallel-pool, mixed-space, small-grid\)/);
});
