import { DataError } from '../../core/errors.js';
import type { PreparedData } from '../data/types.js';

/**
 * The number of genes, after checking that both domains hold rows x genes
 * values and one label per row. Every model family starts with it: a
 * mismatch here is a reader bug, and without this check it would surface as
 * an unreadable tensor shape error in the middle of training.
 */
export function geneCount(data: PreparedData, family: string): number {
  const cols = data.genes.length;
  for (const [name, domain] of [['bulk', data.bulk], ['cells', data.cells]] as const) {
    if (domain.x.length !== domain.rows * cols || domain.y.length !== domain.rows) {
      throw new DataError(
        `${name}: expected ${domain.rows} x ${cols} values and ${domain.rows} labels, but got ${domain.x.length} values and ${domain.y.length} labels`,
      );
    }
  }
  if (cols < 1) throw new DataError(`${family}: expected at least 1 gene shared by bulk and cells, but got 0`);
  return cols;
}

/** ROC AUC is undefined with one class: per-epoch cell AUC is then not reported. */
export function hasBothClasses(labels: Uint8Array): boolean {
  return labels.includes(0) && labels.includes(1);
}
