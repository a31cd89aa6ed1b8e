import { describe } from '../../core/errors.js';
import { H5File } from './h5-file.js';
import { indexPath, readColumn, readIndex, type Cell } from './h5ad-frame.js';
import { readX } from './h5ad-matrix.js';
import type { ValueScale } from './types.js';

/**
 * Reads one domain from an AnnData `.h5ad` file (docs/datasets.md, "h5ad"):
 * sample ids from the obs index, gene names from the var index (or a var
 * column), values from X, and labels from an obs column. Every problem is a
 * DataError naming the file and the dataset path inside it.
 */

export interface ReadH5adOptions {
  /** `counts` rejects negative values. */
  scale: ValueScale;
  /** The obs column holding the labels; without it no labels are read (they come from a labels file). */
  labelsColumn?: string;
  /**
   * The value of the labels column that means sensitive (1); the column must
   * then hold exactly one other value, which means resistant (0). Without it
   * the column must hold 0 and 1 (numbers, booleans or the strings "0", "1").
   */
  sensitiveValue?: string;
  /** A var column of gene names to use instead of the var index (e.g. symbols when the index holds Ensembl ids). */
  geneColumn?: string;
}

export interface H5adDomain {
  ids: string[];
  genes: string[];
  /** Row-major ids.length x genes.length. */
  values: Float32Array;
  /** When `labelsColumn` was given: 1 = sensitive, 0 = resistant, one per row. */
  labels?: Uint8Array;
}

export async function readH5ad(path: string, opts: ReadH5adOptions): Promise<H5adDomain> {
  const file = await H5File.open(path);
  try {
    const ids = readIndex(file, 'obs');
    requireUnique(file, indexPath(file, 'obs'), ids, 'cell ids (obs names)', '');
    const genePath = opts.geneColumn === undefined ? indexPath(file, 'var') : `var/${opts.geneColumn}`;
    const genes = opts.geneColumn === undefined ? readIndex(file, 'var') : geneNames(file, opts.geneColumn);
    if (genes.length === 0) throw file.error(genePath, 'expected at least one gene, but got none');
    if (ids.length === 0) throw file.error(indexPath(file, 'obs'), 'expected at least one sample, but got none');
    requireUnique(
      file,
      genePath,
      genes,
      'gene names',
      opts.geneColumn === undefined ? '' : ': choose a gene_column with unique names, or none to use the var index',
    );
    const result: H5adDomain = { ids, genes, values: new Float32Array(0) };
    if (opts.labelsColumn !== undefined) result.labels = readLabelColumn(file, opts.labelsColumn, opts.sensitiveValue, ids);
    // X last: it is the slow part, and a wrong column name should fail before it is read.
    result.values = readX(file, { ids, genes }, { counts: opts.scale === 'counts' });
    return result;
  } finally {
    file.close();
  }
}

function geneNames(file: H5File, column: string): string[] {
  const values = readColumn(file, 'var', column);
  return values.map((v, i) => {
    if (v === null || (typeof v === 'string' && v.trim() === '')) {
      throw file.error(`var/${column}`, `expected a gene name in every row, but got ${v === null ? 'a missing value' : describe(v)} in row ${i + 1}`);
    }
    return String(v);
  });
}

function requireUnique(file: H5File, path: string, names: readonly string[], what: string, hint: string): void {
  const first = new Map<string, number>();
  names.forEach((name, i) => {
    const seen = first.get(name);
    if (seen !== undefined) throw file.error(path, `expected unique ${what}, but got ${describe(name)} in rows ${seen + 1} and ${i + 1}${hint}`);
    if (name.trim() === '') throw file.error(path, `expected non-empty ${what}, but got ${describe(name)} in row ${i + 1}`);
    first.set(name, i);
  });
}

/** The labels column as 0/1, one per obs row, in the order of the obs index. */
function readLabelColumn(file: H5File, column: string, sensitiveValue: string | undefined, ids: readonly string[]): Uint8Array {
  const path = `obs/${column}`;
  const values = readColumn(file, 'obs', column);
  if (values.length !== ids.length) {
    throw file.error(path, `expected one value per obs row (${ids.length}), but got ${values.length}`);
  }
  const missing = values.indexOf(null);
  if (missing >= 0) throw file.error(path, `expected a label for every sample, but got a missing value for ${describe(ids[missing])}`);
  const distinct = [...new Set((values as Exclude<Cell, null>[]).map(String))].sort();
  const list = distinct.map((v) => describe(v)).join(', ');
  const labels = new Uint8Array(values.length);

  if (sensitiveValue === undefined) {
    for (let i = 0; i < values.length; i++) {
      const text = String(values[i]);
      if (text !== '0' && text !== '1') {
        throw file.error(
          path,
          `expected labels 0 or 1, or a sensitive_value in the manifest naming the value that means sensitive, but got ${describe(values[i])} for ${describe(ids[i])}; the column holds ${list}`,
        );
      }
      labels[i] = text === '1' ? 1 : 0;
    }
    return labels;
  }
  if (!distinct.includes(sensitiveValue)) {
    throw file.error(path, `expected the sensitive_value ${describe(sensitiveValue)} among the column's values, but got only ${list}`);
  }
  if (distinct.length > 2) {
    // Mapping every other value to resistant would hide a third class (unknown, NA): make the user decide.
    throw file.error(path, `expected two values (${describe(sensitiveValue)} for sensitive and one for resistant), but got ${distinct.length}: ${list}`);
  }
  for (let i = 0; i < values.length; i++) labels[i] = String(values[i]) === sensitiveValue ? 1 : 0;
  return labels;
}
