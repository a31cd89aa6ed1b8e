import { DataError, describe, expected } from '../../core/errors.js';
import { countFields, delimiterFor, fieldEnd, fieldText, NumberScanner, parseNumberText, splitLine } from './fields.js';
import { countLines, forEachLine } from './line-reader.js';
import { FLOAT32_MAX, type ValueScale } from './types.js';

export type ExpressionFormat = 'scad' | 'table';

export interface ExpressionFile {
  ids: string[];
  genes: string[];
  /** Row-major ids.length x genes.length. */
  values: Float32Array;
  /** SCAD layout only: the `response` column. */
  labels?: Uint8Array;
  /** SCAD layout with a `logIC50` column: one per row, NaN where the file says NA. */
  logIC50?: Float64Array;
}

export interface ReadExpressionOptions {
  format: ExpressionFormat;
  /** `counts` rejects negative values. */
  scale: ValueScale;
}

const RESPONSE = 'response';
const LOG_IC50 = 'logIC50';

/**
 * Reads one expression matrix: rows = samples, first column = sample id,
 * header row = column names. Two layouts (docs/datasets.md):
 * - `table`: the header's first cell is ignored (empty or a name), every other column is a gene;
 * - `scad`: the header is `<empty>, response, [logIC50,] genes...`, so labels travel with the values.
 *
 * Values go into one Float32Array allocated at its final size after a cheap
 * line-counting pass, so a 7,440 x 12,715 matrix costs its 378 MB once and
 * no per-row arrays are kept.
 */
export async function readExpression(path: string, opts: ReadExpressionOptions): Promise<ExpressionFile> {
  const delim = delimiterFor(path);
  const totalLines = await countLines(path);
  if (totalLines === 0) throw new DataError('expected a header row, but got an empty file', { file: path, line: 1 });

  const scad = opts.format === 'scad';
  const counts = opts.scale === 'counts';
  const scanner = new NumberScanner();
  const ids: string[] = [];
  const idLines = new Map<string, number>();
  let genes: string[] = [];
  let leading = 0; // columns before the first gene: id [, response [, logIC50]]
  let hasLogIC50 = false;
  let width = 0; // fields per line
  let values = new Float32Array(0);
  let labels = new Uint8Array(0);
  let logIC50 = new Float64Array(0);
  let blankLine = 0; // first blank line not yet followed by data: an error only if data follows

  const fail = (detail: string, line: number, field?: string): never => {
    throw new DataError(detail, field === undefined ? { file: path, line } : { file: path, line, field });
  };

  /** The field's text and value on the slow path; `scanner.end` moves past the field either way. */
  const slowNumber = (buf: Buffer, pos: number, end: number): { text: string; value: number } => {
    const stop = fieldEnd(buf, pos, end, delim);
    scanner.end = stop;
    const text = fieldText(buf, pos, stop);
    return { text, value: parseNumberText(text) };
  };

  const readHeader = (buf: Buffer, start: number, end: number): void => {
    const header = splitLine(buf, start, end, delim);
    if (scad) {
      if (header[1] !== RESPONSE) {
        fail(expected(`column 2 to be "${RESPONSE}" (SCAD layout: id, response, [logIC50,] genes)`, header[1]), 1, RESPONSE);
      }
      hasLogIC50 = header[2] === LOG_IC50;
      leading = hasLogIC50 ? 3 : 2;
    } else {
      leading = 1;
    }
    genes = header.slice(leading);
    width = header.length;
    if (genes.length === 0) fail('expected at least one gene column after the sample id, but got none', 1);
    const seen = new Map<string, number>();
    for (let g = 0; g < genes.length; g++) {
      const name = genes[g] as string;
      const column = g + leading + 1;
      if (name.trim() === '') fail(expected(`a gene name in column ${column}`, name), 1);
      const first = seen.get(name);
      if (first !== undefined) fail(`expected unique gene names, but got ${describe(name)} in columns ${first} and ${column}`, 1, name);
      seen.set(name, column);
    }
    const maxRows = totalLines - 1;
    values = new Float32Array(maxRows * genes.length);
    if (scad) labels = new Uint8Array(maxRows);
    if (hasLogIC50) logIC50 = new Float64Array(maxRows);
  };

  const ragged = (buf: Buffer, start: number, end: number, line: number): never =>
    fail(`expected ${width} fields per line as in the header, but got ${countFields(buf, start, end, delim)}`, line);

  const readRow = (buf: Buffer, start: number, end: number, line: number): void => {
    const row = ids.length;
    const idStop = fieldEnd(buf, start, end, delim);
    const id = fieldText(buf, start, idStop);
    if (idStop >= end) ragged(buf, start, end, line);
    if (id.trim() === '') fail(expected('a sample id in column 1', id), line);
    const firstLine = idLines.get(id);
    if (firstLine !== undefined) fail(`expected unique sample ids, but got ${describe(id)} again (first on line ${firstLine})`, line);
    idLines.set(id, line);
    ids.push(id);
    let pos = idStop + 1;

    if (scad) {
      let label = scanner.scan(buf, pos, end, delim);
      if (Number.isNaN(label)) {
        const slow = slowNumber(buf, pos, end);
        label = slow.value;
        if (label !== 0 && label !== 1) fail(expected('a label 0 or 1', slow.text), line, RESPONSE);
      } else if (label !== 0 && label !== 1) {
        fail(expected('a label 0 or 1', buf.toString('utf8', pos, scanner.end)), line, RESPONSE);
      }
      labels[row] = label;
      if (scanner.end >= end) ragged(buf, start, end, line);
      pos = scanner.end + 1;
      if (hasLogIC50) {
        let ic50 = scanner.scan(buf, pos, end, delim);
        if (Number.isNaN(ic50)) {
          const slow = slowNumber(buf, pos, end);
          ic50 = slow.value;
          if (Number.isNaN(ic50) && slow.text.trim() !== 'NA') fail(expected('a finite number or NA', slow.text), line, LOG_IC50);
        }
        logIC50[row] = ic50;
        if (scanner.end >= end) ragged(buf, start, end, line);
        pos = scanner.end + 1;
      }
    }

    const nGenes = genes.length;
    const base = row * nGenes;
    for (let g = 0; g < nGenes; g++) {
      if (pos > end) ragged(buf, start, end, line);
      let value = scanner.scan(buf, pos, end, delim);
      if (Number.isNaN(value)) {
        const slow = slowNumber(buf, pos, end);
        value = slow.value;
        if (Number.isNaN(value)) fail(expected('a finite number', slow.text), line, genes[g]);
      }
      // Values are kept as float32: a finite double beyond its range (1e39) would become Infinity there.
      if (!Number.isFinite(Math.fround(value))) fail(expected(`a number within float32 range (magnitude at most ${FLOAT32_MAX.toPrecision(3)})`, value), line, genes[g]);
      if (counts && value < 0) fail(expected('a non-negative count (scale: counts)', value), line, genes[g]);
      values[base + g] = value;
      pos = scanner.end + 1;
    }
    if (scanner.end !== end) ragged(buf, start, end, line);
  };

  await forEachLine(path, (buf, start, end, line) => {
    if (line === 1) return readHeader(buf, start, end);
    if (start === end) {
      if (blankLine === 0) blankLine = line;
      return;
    }
    if (blankLine !== 0) fail(`expected ${width} fields per line as in the header, but got an empty line`, blankLine);
    readRow(buf, start, end, line);
  });

  const rows = ids.length;
  if (rows === 0) fail('expected at least one sample row after the header, but got none', 2);
  const result: ExpressionFile = {
    ids,
    genes,
    // Blank trailing lines were counted in the first pass: trim the slack so the array is exactly rows x genes.
    values: values.length === rows * genes.length ? values : values.slice(0, rows * genes.length),
  };
  if (scad) result.labels = labels.length === rows ? labels : labels.slice(0, rows);
  if (hasLogIC50) result.logIC50 = logIC50.length === rows ? logIC50 : logIC50.slice(0, rows);
  return result;
}
