import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { StudySpec, SweepSpec } from '../../proto/gen/cellsweep/v1/study.js';
import { ConfigError } from '../../core/errors.js';
import { parseSweep } from '../../coordinator/config/load-sweep.js';
import { parseSweepSpec } from '../../coordinator/config/sweep-spec.js';
import { tempDir } from '../e2e/helpers.js';

const root = tempDir('sweep-spec');
mkdirSync(join(root, 'd1'));
mkdirSync(join(root, 'd2'));

const YAML = `name: both-forms
model: sctl
sampler: tpe
sampler_options: {preset: [parallel-pool, small-grid], n_startup_trials: 5, multivariate: true}
pruner: {name: seeds}
seed: 3
trials: 12
seeds: [42, 50]
space: sctl-paper
fixed: {iterations: 30, mmd_kernel: single}
trainers: 4
studies:
  - {dataset: d1}
  - name: second
    dataset: d2
    model: bulk-mlp
    space: {depth: {type: int, low: 2, high: 6}, lr: {type: float, low: 0.0001, high: 0.01, log: true}}
    fixed: {epochs: 5}
    trials: 3
    seeds: [1]
`;

const number = (value: number) => ({ kind: { $case: 'number' as const, value } });

test('a SweepSpec message gives the same sweep as its YAML file', () => {
  const spec = SweepSpec.fromPartial({
    name: 'both-forms',
    model: 'sctl',
    sampler: 'tpe',
    samplerOptions: { preset: ['parallel-pool', 'small-grid'], n_startup_trials: 5, multivariate: true },
    pruner: { name: 'seeds' },
    seed: 3,
    trials: 12,
    seeds: [42, 50],
    space: 'sctl-paper',
    fixed: { iterations: number(30), mmd_kernel: { kind: { $case: 'text', value: 'single' } } },
    trainers: 4,
    studies: [
      StudySpec.fromPartial({ dataset: 'd1' }),
      StudySpec.fromPartial({
        name: 'second',
        dataset: 'd2',
        model: 'bulk-mlp',
        space: { depth: { type: 'int', low: 2, high: 6 }, lr: { type: 'float', low: 0.0001, high: 0.01, log: true } },
        fixed: { epochs: number(5) },
        trials: 3,
        seeds: [1],
      }),
    ],
  });
  const fromMessage = parseSweepSpec(spec, root);
  const fromYaml = parseSweep(YAML, 'sweep.yaml', root);
  assert.deepEqual({ ...fromMessage, source: '' }, { ...fromYaml, source: '' });
  assert.equal(fromMessage.source, 'CreateSweepRequest.spec');
  assert.equal(fromMessage.studies[1]!.dataset, join(root, 'd2'), 'datasets resolve against the data root');
});

test('errors in a SweepSpec name the message field, never a line of YAML the user did not write', () => {
  const study = (extra: Partial<StudySpec>) => StudySpec.fromPartial({ dataset: 'd1', ...extra });
  const cases: Array<[Partial<SweepSpec>, RegExp]> = [
    [{ studies: [] }, /^CreateSweepRequest\.spec, field 'studies': expected a non-empty list of studies/],
    [{ studies: [study({ trials: 0 })] }, /^CreateSweepRequest\.spec, field 'studies\[0\]\.trials': /],
    [{ sampler: 'annealing', studies: [study({})] }, /^CreateSweepRequest\.spec, field 'sampler': expected a sampler/],
    [{ studies: [study({ fixed: { epochs: {} } })] }, /^CreateSweepRequest\.spec, field 'studies\[0\]\.fixed\.epochs': expected a number, text or flag/],
    [{ studies: [study({ dataset: 'nowhere/../../..' }), study({ name: 'x' }), study({ name: 'x' })] }, /^CreateSweepRequest\.spec, field 'studies\[2\]\.name': duplicated study name/],
  ];
  for (const [partial, message] of cases) {
    assert.throws(
      () => parseSweepSpec(SweepSpec.fromPartial(partial), root),
      (err: unknown) => err instanceof ConfigError && message.test(err.message) && !/:\d+/.test(err.message.split(':')[0]!),
      `${JSON.stringify(partial)} -> ${message}`,
    );
  }
});
