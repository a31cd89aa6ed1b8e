import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSweep } from '../../coordinator/config/load-sweep.js';
import { BUILTIN_SPACES } from '../../coordinator/space/builtin-spaces.js';
import { cardinality, contains } from '../../coordinator/space/search-space.js';

/** A sweep file around a space, so errors carry the real file's line numbers. */
function sweepWith(space: string, extra = ''): string {
  return `name: t\nmodel: bulk-mlp\n${extra}space:\n${space}\nstudies:\n  - dataset: d\n`;
}

function spaceOf(space: string, extra = '') {
  return parseSweep(sweepWith(space, extra), 'sweep.yaml', '/base').studies[0]!.space;
}

function rejects(space: string, message: RegExp, extra = ''): void {
  assert.throws(() => parseSweep(sweepWith(space, extra), 'sweep.yaml', '/base'), message);
}

test('float, int (log and step) and categorical parameters parse in declaration order', () => {
  const space = spaceOf(
    [
      '  lr: {type: float, low: 0.0001, high: 0.1, log: true}',
      '  depth: {type: int, low: 2, high: 6}',
      '  dropout: {type: float, low: 0.1, high: 0.5, step: 0.1}',
      '  sampling: {type: categorical, choices: [none, smote]}',
    ].join('\n'),
  );
  assert.deepEqual(
    space.params.map(([n]) => n),
    ['lr', 'depth', 'dropout', 'sampling'],
  );
  assert.deepEqual(space.params[0]![1], { type: 'float', low: 0.0001, high: 0.1, log: true });
  assert.deepEqual(space.params[1]![1], { type: 'int', low: 2, high: 6, log: false, step: 1 });
  assert.equal(cardinality(space.params[2]![1]), 5);
  assert.ok(contains(space.params[2]![1], 0.3));
  assert.ok(!contains(space.params[2]![1], 0.35));
  assert.deepEqual(space.params[3]![1], { type: 'categorical', choices: ['none', 'smote'] });
});

test('the paper space is the 720-point grid', () => {
  const paper = BUILTIN_SPACES['sctl-paper']!;
  assert.equal(
    paper.params.reduce((n, [, d]) => n * cardinality(d), 1),
    720,
  );
});

test('space: NAME selects a built-in space', () => {
  const config = parseSweep('model: bulk-mlp\nspace: bulk-mlp\nstudies:\n  - dataset: d\n', 's.yaml', '/b');
  assert.deepEqual(
    config.studies[0]!.space.params.map(([n]) => n),
    ['depth', 'sampling', 'lr'],
  );
  assert.throws(() => parseSweep('model: bulk-mlp\nspace: nope\nstudies:\n  - dataset: d\n', 's.yaml', '/b'), /s\.yaml:2, field 'space': expected a built-in space \(sctl-paper, sctl-log, bulk-mlp\) or a mapping, but got "nope"/);
});

test('empty ranges, bad log bounds, empty choices and non-dividing steps are rejected with file, line and field', () => {
  rejects('  depth: {type: int, low: 6, high: 2}', /sweep\.yaml:4, field 'space\.depth\.high': empty range: expected low < high, but got low=6, high=2/);
  rejects('  lr: {type: float, low: 0.1, high: 0.1}', /field 'space\.lr\.high': empty range/);
  rejects('  lr: {type: float, low: 0, high: 1, log: true}', /sweep\.yaml:4, field 'space\.lr\.low': expected low > 0 for a log-scaled parameter, but got 0/);
  rejects('  sampling: {type: categorical, choices: []}', /field 'space\.sampling\.choices': empty choices/);
  rejects('  dropout: {type: float, low: 0, high: 0.5, step: 0.2}', /field 'space\.dropout\.step': step 0\.2 does not divide the range \[0, 0\.5\]/);
  rejects('  depth: {type: int, low: 2.5, high: 6}', /field 'space\.depth\.low': expected an integer, but got 2\.5/);
  rejects('  depth: {type: integer, low: 2, high: 6}', /field 'space\.depth\.type': expected type float, int or categorical, but got "integer"/);
  rejects('  depth: {type: int, low: 2, high: six}', /field 'space\.depth\.high': expected a finite number, but got "six"/);
  rejects('  depth: {type: int, low: 2, high: 6, logg: true}', /field 'space\.depth\.logg': unknown key 'logg' for a int parameter/);
  rejects('  sampling: {type: categorical, choices: [none, none]}', /field 'space\.sampling\.choices\[1\]': duplicated choice "none"/);
});

test('unknown parameters (not settings of the model) and out-of-range values are rejected', () => {
  rejects('  l9: {type: float, low: 0.1, high: 1}', /sweep\.yaml:4, field 'space\.l9': model 'bulk-mlp' has no setting 'l9' \(known: .*depth.*\)/);
  rejects('  depth: {type: int, low: 1, high: 6}', /field 'space\.depth': search space value out of the model's range: expected an integer >= 2, but got 1/);
  rejects('  depth: {type: float, low: 2, high: 6}', /sweep\.yaml:4, field 'space\.depth\.type': 'depth' is an integer setting of model 'bulk-mlp': tune it with type: int, not float/);
  rejects('  sampling: {type: int, low: 1, high: 3}', /field 'space\.sampling\.type': 'sampling' is a choice setting of model 'bulk-mlp': tune it with type: categorical/);
  rejects('  sampling: {type: categorical, choices: [none, oversample]}', /field 'space\.sampling': .*expected one of none, weighted, smote, but got "oversample"/);
});

test('a parameter both tuned and fixed, and duplicated keys, are rejected', () => {
  rejects('  depth: {type: int, low: 2, high: 6}', /duplicated parameter 'depth': it is both tuned \(space\) and fixed \(fixed\)/, 'fixed: {depth: 3}\n');
  assert.throws(
    () => parseSweep('model: bulk-mlp\nspace:\n  depth: {type: int, low: 2, high: 6}\n  depth: {type: int, low: 2, high: 3}\nstudies:\n  - dataset: d\n', 'dup.yaml', '/b'),
    /dup\.yaml:4: duplicated key: Map keys must be unique/,
  );
});

test('malformed YAML names the file and line', () => {
  assert.throws(() => parseSweep('model: bulk-mlp\nspace: {depth: [\nstudies: x\n', 'bad.yaml', '/b'), /^ConfigError: bad\.yaml:\d+: malformed YAML/);
});
