import { endianness } from 'node:os';
import type { Interpretation } from '../../proto/gen/cellsweep/v1/run.js';
import type { PreparedData, PreparedDomain } from '../data/types.js';
import type { TransportPlan } from '../models/family.js';
import { predictedGroups } from './groups.js';
import { markerGenes } from './markers.js';

/**
 * What a trained model says about its cells (SCTL paper, section 3.4): the
 * predicted sensitive / resistant split at the median score, the marker
 * genes of each group, and the transport plan when the model has one.
 */
export function interpret(data: PreparedData, cellScores: Float32Array, plan: TransportPlan | undefined): Interpretation {
  const groups = predictedGroups(cellScores);
  const cells = data.cells;
  const out: Interpretation = {
    planRows: plan?.rows ?? 0,
    planCols: plan?.cols ?? 0,
    planF32: plan === undefined ? Buffer.alloc(0) : littleEndianBytes(plan.values),
    bulkIds: plan === undefined ? [] : (data.bulk.ids ?? []),
    cellIds: cells.ids ?? [],
    cellSensitive: groups.sensitive,
    threshold: groups.threshold,
    sensitiveMarkers: [],
    resistantMarkers: [],
    cellScores: Array.from(cellScores),
  };
  // A constant predictor puts every cell on one side: there is nothing to contrast.
  if (groups.nSensitive > 0 && groups.nResistant > 0) {
    const markers = markerGenes(unscaled(cells, data.genes.length), cells.rows, data.genes.length, data.genes, groups.sensitive, {
      scale: cells.scale ?? 'normalized',
    });
    out.sensitiveMarkers = markers.sensitive;
    out.resistantMarkers = markers.resistant;
  }
  return out;
}

/**
 * The cells' values before MinMax scaling (log-normalised counts, or the
 * input's normalised values): fold changes are only meaningful there.
 */
function unscaled(domain: PreparedDomain, cols: number): Float32Array {
  const minmax = domain.minmax;
  if (minmax === undefined) return domain.x;
  const x = new Float32Array(domain.x.length);
  for (let r = 0; r < domain.rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) x[row + c] = (domain.x[row + c] as number) * (minmax.range[c] as number) + (minmax.min[c] as number);
  }
  return x;
}

/** The plan's bytes as the schema says: float32, little-endian. */
function littleEndianBytes(values: Float32Array): Buffer {
  if (endianness() === 'LE') return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes;
}
