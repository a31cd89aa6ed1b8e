import * as tf from '@tensorflow/tfjs-core';
import type { PreparedData } from '../../data/types.js';
import type { TransportPlan } from '../family.js';
import { gaussianCostHost, type Posteriors } from './cost.js';
import type { SctlModel } from './model.js';
import { unbalancedOtPlan, type UnbalancedOtOptions } from './ot.js';

/**
 * The interpretability output of SCTL (section 2.6): the transport plan
 * between every bulk sample (rows) and every cell (columns), from the trained
 * encoder in evaluation mode and the same solver and constants as training.
 * Rows are the dataset's bulk samples only (not SMOTE's synthetic ones).
 */
export function fullTransportPlan(model: SctlModel, data: PreparedData, ot: UnbalancedOtOptions): TransportPlan {
  const genes = data.genes.length;
  const bulk = posteriorsOf(model, data.bulk.x, data.bulk.rows, genes);
  const cells = posteriorsOf(model, data.cells.x, data.cells.rows, genes);
  const plan = unbalancedOtPlan(gaussianCostHost(bulk, cells), bulk.rows, cells.rows, ot);
  return { rows: bulk.rows, cols: cells.rows, values: Float32Array.from(plan) };
}

/** Evaluation-mode mu and sigma of every row, in chunks to bound device memory. */
function posteriorsOf(model: SctlModel, x: Float32Array, rows: number, genes: number, chunkRows = 2048): Posteriors {
  const dim = model.architecture.latent;
  const mu = new Float32Array(rows * dim);
  const sigma = new Float32Array(rows * dim);
  for (let start = 0; start < rows; start += chunkRows) {
    const end = Math.min(start + chunkRows, rows);
    const out = tf.tidy(() => model.posteriors(tf.tensor2d(x.subarray(start * genes, end * genes), [end - start, genes])));
    mu.set(out.mu.dataSync(), start * dim);
    sigma.set(out.sigma.dataSync(), start * dim);
    tf.dispose([out.mu, out.sigma]);
  }
  return { mu, sigma, rows, dim };
}
