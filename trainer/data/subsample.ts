import { DataError } from '../../core/errors.js';
import type { ParamValue } from '../../core/params.js';
import { Rng } from '../../core/rng.js';
import type { PreparedData } from './types.js';
import { requireBothClasses } from './validate.js';

/** A run's share of the target cells (the `target_fraction` and `target_subsample` settings). */
export interface TargetSubsample {
  fraction: number;
  /** Seed of the draw: the same number draws the same cells whatever the run's seed. */
  which: number;
}

export function targetSubsample(settings: Readonly<Record<string, ParamValue>>): TargetSubsample {
  const fraction = settings.target_fraction;
  const which = settings.target_subsample;
  return { fraction: typeof fraction === 'number' ? fraction : 1, which: typeof which === 'number' ? which : 0 };
}

/**
 * The prepared data with round(fraction x cells) cells drawn at random
 * without replacement, in their original order; the bulk is untouched. The
 * cells keep the scaling computed on all of them, so a subsample's values
 * are the full run's values for the same cells. The cached dataset is not
 * modified.
 */
export function subsampleCells(data: PreparedData, { fraction, which }: TargetSubsample): PreparedData {
  if (fraction >= 1) return data;
  const { cells, genes } = data;
  const keep = Math.round(fraction * cells.rows);
  if (keep < 2) {
    throw new DataError(`target_fraction ${fraction} of ${cells.rows} cells keeps ${keep}; at least 2 are needed to score a run`, { field: 'target_fraction' });
  }
  const order = new Rng(`target-subsample:${which}`).shuffle(Uint32Array.from({ length: cells.rows }, (_, i) => i));
  const rows = order.subarray(0, keep).sort();
  const g = genes.length;
  const x = new Float32Array(keep * g);
  rows.forEach((row, i) => x.set(cells.x.subarray(row * g, (row + 1) * g), i * g));
  const y = Uint8Array.from(rows, (row) => cells.y[row]!);
  requireBothClasses(y, `cell labels of target subsample ${which} (target_fraction ${fraction})`, { field: 'target_subsample' });
  return {
    ...data,
    cells: { ...cells, x, y, rows: keep, ...(cells.ids !== undefined ? { ids: Array.from(rows, (row) => cells.ids![row]!) } : {}) },
    report: [...data.report, { step: 'target subsample', detail: `kept ${keep} of ${cells.rows} cells (target_fraction ${fraction}, target_subsample ${which})` }],
  };
}
