import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../core/errors.js';
import { BULK_MLP, MODEL_SPECS } from '../../../core/model-specs.js';
import { modelFamilies, modelFamily } from '../../../trainer/models/registry.js';

test('every family is found by name and carries the shared spec', () => {
  assert.deepEqual(modelFamilies(), ['bulk-mlp', 'sctl', 'sleep']);
  assert.equal(modelFamily('bulk-mlp').spec, BULK_MLP);
  for (const name of modelFamilies()) assert.equal(modelFamily(name).spec, MODEL_SPECS[name], name);
});

test('an unknown family is a ConfigError listing the known ones', () => {
  assert.throws(
    () => modelFamily('sctl-v9'),
    (err: unknown) => err instanceof ConfigError && err.message === `field 'model': expected a model family (bulk-mlp, sctl, sleep), but got "sctl-v9"`,
  );
});
