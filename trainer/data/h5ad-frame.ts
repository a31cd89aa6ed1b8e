import { describe } from '../../core/errors.js';
import type { H5File } from './h5-file.js';

/**
 * AnnData's dataframes, `obs` (one row per cell) and `var` (one row per
 * gene), as written by anndata 0.7 and later (the AnnData on-disk spec):
 * a group whose attribute `_index` names the dataset holding the row names,
 * with one member per column. A column is
 * - a plain 1-D dataset of numbers, booleans or strings (`array`, `string-array`);
 * - a categorical: a group with `categories` and `codes` (anndata >= 0.8,
 *   encoding-version 0.2.0), or a dataset of codes whose attribute
 *   `categories` refers to `__categories/<name>` (anndata 0.7, 0.1.0);
 *   code -1 means missing;
 * - a nullable integer or boolean: a group with `values` and `mask`.
 * Older files (anndata < 0.7) kept obs as one compound dataset: not read.
 */

/** One value of a column; null where the file says missing (categorical code -1, masked, NaN). */
export type Cell = string | number | null;

export type FrameName = 'obs' | 'var';

/** The dataset path of a frame's row names. */
export function indexPath(file: H5File, frame: FrameName): string {
  requireFrameGroup(file, frame);
  const name = file.attrString(frame, '_index') ?? '_index';
  const path = `${frame}/${name}`;
  if (file.kind(path) !== 'dataset') {
    throw file.error(path, `expected the ${frame} index (row names) named by the attribute ${frame}._index, but got ${file.kind(path) ?? 'nothing'}`);
  }
  return path;
}

/** Row names of `obs` (cell ids) or `var` (gene names), as strings. */
export function readIndex(file: H5File, frame: FrameName): string[] {
  return readColumnAt(file, indexPath(file, frame)).map((v) => (v === null ? '' : String(v)));
}

/** The column names of a frame, in the writer's order, for "the available columns are ..." messages. */
export function columnNames(file: H5File, frame: FrameName): string[] {
  const order = file.attr(frame, 'column-order');
  const index = file.attrString(frame, '_index') ?? '_index';
  const listed = Array.isArray(order) ? order.filter((c): c is string => typeof c === 'string') : typeof order === 'string' ? [order] : [];
  const members = file.keys(frame).filter((k) => k !== index && k !== '__categories');
  // column-order is authoritative when present; members also catches columns a hand-made file forgot to list.
  return [...listed, ...members.filter((m) => !listed.includes(m))];
}

/** The values of column `name` of a frame, one per row. A missing column names the ones there are. */
export function readColumn(file: H5File, frame: FrameName, name: string): Cell[] {
  requireFrameGroup(file, frame);
  const path = `${frame}/${name}`;
  if (file.kind(path) === undefined) {
    const available = columnNames(file, frame);
    const list = available.length > 0 ? available.map((c) => describe(c)).join(', ') : 'none';
    throw file.error(path, `expected ${frame === 'obs' ? 'an' : 'a'} ${frame} column ${describe(name)}, but got none; the ${frame} columns are ${list}`);
  }
  return readColumnAt(file, path);
}

function readColumnAt(file: H5File, path: string): Cell[] {
  if (file.kind(path) === 'group') {
    const encoding = file.attrString(path, 'encoding-type');
    if (encoding === 'categorical') return categorical(file, readPlain(file, `${path}/categories`), file.readNumbers(`${path}/codes`), path);
    if (encoding === 'nullable-integer' || encoding === 'nullable-boolean') {
      const values = file.readNumbers(`${path}/values`);
      const mask = file.readNumbers(`${path}/mask`);
      return Array.from(values, (v, i) => ((mask[i] as number) !== 0 ? null : v));
    }
    throw file.error(path, `expected a column (array, categorical, nullable-integer or nullable-boolean), but got a group with encoding-type ${describe(encoding)}`);
  }
  const shape = file.shape(path);
  if (shape.length !== 1) throw file.error(path, `expected a 1-D column, but got a dataset of shape (${shape.join(', ')})`);
  const legacyCategories = file.attrReferencePath(path, 'categories');
  if (legacyCategories !== undefined) return categorical(file, readPlain(file, legacyCategories), file.readNumbers(path), path);
  return readPlain(file, path);
}

function readPlain(file: H5File, path: string): Cell[] {
  const { kind } = file.dtype(path);
  if (kind === 'string') return file.readStrings(path);
  if (kind === 'compound') {
    throw file.error(path, 'expected a group of columns (AnnData 0.7 or later), but got a compound dataset (AnnData before 0.7): read the file with anndata and write it again');
  }
  return Array.from(file.readNumbers(path), (v) => (Number.isNaN(v) ? null : v));
}

function categorical(file: H5File, categories: Cell[], codes: ArrayLike<number>, path: string): Cell[] {
  return Array.from(codes, (code, row) => {
    if (code === -1) return null;
    const value = categories[code];
    if (value === undefined) throw file.error(path, `expected category codes from -1 to ${categories.length - 1}, but got ${code} in row ${row + 1}`);
    return value;
  });
}

function requireFrameGroup(file: H5File, frame: FrameName): void {
  const kind = file.kind(frame);
  if (kind === 'group') return;
  if (kind === 'dataset' && file.dtype(frame).kind === 'compound') {
    throw file.error(frame, 'expected a group of columns (AnnData 0.7 or later), but got a compound dataset (AnnData before 0.7): read the file with anndata and write it again');
  }
  throw file.error(frame, `expected the ${frame} dataframe (a group), but got ${kind === undefined ? 'nothing' : 'a dataset'}`);
}
