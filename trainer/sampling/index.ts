import { SAMPLING_STRATEGIES, type SamplingStrategy } from '../../core/model-specs.js';
import type { Rng } from '../../core/rng.js';
import type { BulkMatrix } from './matrix.js';
import { createNoneSampler } from './none.js';
import { createSmoteSampler } from './smote.js';
import type { BulkSampler } from './types.js';
import { createWeightedSampler } from './weighted.js';

export type { BulkSampler } from './types.js';
export type { BulkMatrix } from './matrix.js';

export interface BulkSamplerOptions {
  /** Rows per batch, >= 2. */
  batchSize: number;
  /** SMOTE's nearest neighbours, >= 1 (read by the smote strategy only). */
  smoteK: number;
}

/**
 * The bulk mini-batch sampler of one training run (SCTL section 3.2).
 * `rng` is used at creation only, by SMOTE, through a stream derived from it
 * (so the caller's stream does not move); each epoch takes its own rng.
 * Arguments are checked here; settings have already been validated against
 * the model spec, so a failure is a bug in the caller and throws RangeError.
 */
export function createBulkSampler(strategy: SamplingStrategy, data: BulkMatrix, opts: BulkSamplerOptions, rng: Rng): BulkSampler {
  checkArguments(strategy, data, opts);
  switch (strategy) {
    case 'none':
      return createNoneSampler(data, opts.batchSize);
    case 'weighted':
      return createWeightedSampler(data, opts.batchSize);
    case 'smote':
      return createSmoteSampler(data, opts.batchSize, opts.smoteK, rng.derive('smote'));
  }
}

function checkArguments(strategy: SamplingStrategy, data: BulkMatrix, opts: BulkSamplerOptions): void {
  const fail = (what: string): never => {
    throw new RangeError(`createBulkSampler: ${what}`);
  };
  if (!(SAMPLING_STRATEGIES as readonly string[]).includes(strategy)) {
    fail(`expected a sampling strategy (${SAMPLING_STRATEGIES.join(', ')}), but got ${JSON.stringify(strategy)}`);
  }
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 2) fail(`expected a batch size >= 2, but got ${opts.batchSize}`);
  if (!Number.isInteger(opts.smoteK) || opts.smoteK < 1) fail(`expected SMOTE k >= 1, but got ${opts.smoteK}`);
  const { x, y, rows, cols } = data;
  if (!Number.isInteger(rows) || rows < 0) fail(`expected rows to be an integer >= 0, but got ${rows}`);
  if (!Number.isInteger(cols) || cols < 0) fail(`expected cols to be an integer >= 0, but got ${cols}`);
  if (x.length !== rows * cols) fail(`expected x of ${rows} x ${cols} = ${rows * cols} values, but got ${x.length}`);
  if (y.length !== rows) fail(`expected ${rows} labels, but got ${y.length}`);
  for (let i = 0; i < rows; i++) {
    if (y[i] > 1) fail(`expected labels 0 or 1, but got ${y[i]} at row ${i}`);
  }
}
