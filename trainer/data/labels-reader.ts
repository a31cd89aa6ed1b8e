import { DataError, describe, expected } from '../../core/errors.js';
import { delimiterFor, parseNumberText, splitLine } from './fields.js';
import { forEachLine } from './line-reader.js';

/**
 * Reads a label file of the `table` format: a header, then one row per
 * sample: the sample id first, and a column named `response` (or `label`)
 * holding 0 (resistant) or 1 (sensitive). Other columns are ignored. The
 * labels come back in the order of `ids`, the rows of the expression file,
 * whatever order the label file uses.
 */
export async function readLabels(path: string, ids: readonly string[], expressionFile: string): Promise<Uint8Array> {
  const delim = delimiterFor(path);
  const byId = new Map<string, { label: number; line: number }>();
  let column = -1;
  let width = 0;
  let columnName = '';

  await forEachLine(path, (buf, start, end, line) => {
    const fields = splitLine(buf, start, end, delim);
    if (line === 1) {
      width = fields.length;
      column = fields.findIndex((name, i) => i > 0 && ['response', 'label'].includes(name.trim().toLowerCase()));
      if (column < 0) {
        const got = fields.map((name) => describe(name)).join(', ');
        throw new DataError(`expected a header with a "response" or "label" column after the sample id, but got ${got}`, { file: path, line });
      }
      columnName = fields[column] as string;
      return;
    }
    if (start === end) return; // blank lines carry no sample
    if (fields.length !== width) {
      throw new DataError(`expected ${width} fields per line as in the header, but got ${fields.length}`, { file: path, line });
    }
    const id = fields[0] as string;
    const text = fields[column] as string;
    const label = parseNumberText(text);
    if (label !== 0 && label !== 1) throw new DataError(expected('a label 0 or 1', text), { file: path, line, field: columnName });
    const seen = byId.get(id);
    if (seen !== undefined) {
      throw new DataError(`expected unique sample ids, but got ${describe(id)} again (first on line ${seen.line})`, { file: path, line });
    }
    byId.set(id, { label, line });
  });
  if (column < 0) throw new DataError('expected a header row, but got an empty file', { file: path, line: 1 });

  const known = new Set(ids);
  for (const [id, { line }] of byId) {
    if (!known.has(id)) throw new DataError(expected(`a sample id of ${expressionFile}`, id), { file: path, line });
  }
  const labels = new Uint8Array(ids.length);
  const missing: string[] = [];
  ids.forEach((id, row) => {
    const entry = byId.get(id);
    if (entry === undefined) missing.push(id);
    else labels[row] = entry.label;
  });
  if (missing.length > 0) {
    const more = missing.length > 1 ? ` (and ${missing.length - 1} more)` : '';
    throw new DataError(`expected a label for every sample of ${expressionFile}, but got none for ${describe(missing[0])}${more}`, { file: path });
  }
  return labels;
}
