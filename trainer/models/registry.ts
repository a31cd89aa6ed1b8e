import { ConfigError, expected } from '../../core/errors.js';
import { bulkMlp } from './bulk-mlp.js';
import type { ModelFamily } from './family.js';
import { sctl } from './sctl/family.js';
import { sleepModel } from './sleep.js';

const FAMILIES: readonly ModelFamily[] = [bulkMlp, sctl, sleepModel];

/** The names of the model families this trainer can run (what a trainer advertises). */
export function modelFamilies(): string[] {
  return FAMILIES.map((f) => f.spec.name);
}

/** The family called `name` (its spec's name); a ConfigError listing the known ones otherwise. */
export function modelFamily(name: string): ModelFamily {
  const family = FAMILIES.find((f) => f.spec.name === name);
  if (family === undefined) {
    throw new ConfigError(expected(`a model family (${FAMILIES.map((f) => f.spec.name).join(', ')})`, name), { field: 'model' });
  }
  return family;
}
