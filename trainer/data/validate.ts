import { DataError, describe, type ErrorPlace } from '../../core/errors.js';
import type { Dataset, DomainMatrix } from './types.js';

/**
 * Checks that a dataset can be trained on at all, before any training starts:
 * both classes among the bulk labels (the predictor learns from them) and
 * among the cell labels (AUC is undefined with one class), and at least one
 * gene shared by the two domains. `loadDataset` calls it; call it yourself
 * for a dataset built in memory.
 */
export function validateDataset(dataset: Dataset): void {
  requireBothClasses(dataset.bulk.labels, 'bulk labels', labelPlace(dataset.bulk));
  requireBothClasses(dataset.cells.labels, 'cell labels', labelPlace(dataset.cells));
  const shared = sharedGenes(dataset.bulk.genes, dataset.cells.genes);
  if (shared.length === 0) throw noSharedGenes(dataset.bulk, dataset.cells);
}

/** Genes present in both lists, in the order of `first`. */
export function sharedGenes(first: readonly string[], second: readonly string[]): string[] {
  const other = new Set(second);
  return first.filter((gene) => other.has(gene));
}

export function requireBothClasses(labels: Uint8Array, what: string, place: ErrorPlace): void {
  let positives = 0;
  for (const label of labels) positives += label;
  if (positives > 0 && positives < labels.length) return;
  const only = positives === 0 ? '0 (resistant)' : '1 (sensitive)';
  throw new DataError(`expected both classes, 0 and 1, among the ${what}, but got only ${only} for all ${labels.length} samples`, place);
}

export function noSharedGenes(bulk: DomainMatrix, cells: DomainMatrix): DataError {
  // Gene ids from different namespaces (Entrez vs symbols) are the usual cause: show a few of each.
  const sample = (genes: readonly string[]): string => genes.slice(0, 3).map((g) => describe(g)).join(', ');
  return new DataError(
    `expected at least one gene shared by the bulk (${bulk.file}) and the cells (${cells.file}), but got none: ` +
      `bulk genes look like ${sample(bulk.genes)}; cell genes like ${sample(cells.genes)}`,
  );
}

function labelPlace(domain: DomainMatrix): ErrorPlace {
  return { file: domain.file, field: 'response' };
}
