import { extname } from 'node:path';
import { DataError, expected } from '../../core/errors.js';

/**
 * Field-level parsing of delimited text held as bytes.
 *
 * Why hand-written rather than a CSV library: an expression matrix is ~17M
 * plain decimal numbers (1,280 x 13,000), and general CSV parsers first build a
 * string per field and then convert it, which is several times slower and
 * allocates a string per cell. Here numbers are parsed straight from the bytes;
 * strings are made only for ids, header names and the rare field that needs
 * the slow path (quoted, odd spelling, or an error to report).
 *
 * Supported: one record per line, a single-byte delimiter, fields optionally
 * wrapped in double quotes with `""` for a quote inside (R's write.csv quotes
 * names). Not supported: line breaks inside quoted fields.
 */

export const TAB = 0x09;
export const COMMA = 0x2c;
const QUOTE = 0x22;

/** The delimiter implied by a file name: .csv is comma-separated, .tsv and .txt are tab-separated. */
export function delimiterFor(path: string): number {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return COMMA;
  if (ext === '.tsv' || ext === '.txt') return TAB;
  throw new DataError(expected('a .csv, .tsv or .txt file', ext === '' ? 'a name without extension' : ext), { file: path });
}

/** Index of the delimiter that ends the field starting at `pos`, or `end` for the last field. Quote-aware. */
export function fieldEnd(buf: Uint8Array, pos: number, end: number, delim: number): number {
  let i = pos;
  if (i < end && buf[i] === QUOTE) {
    i++;
    while (i < end) {
      if (buf[i] === QUOTE) {
        if (i + 1 < end && buf[i + 1] === QUOTE) i += 2;
        else {
          i++;
          break;
        }
      } else i++;
    }
  }
  while (i < end && buf[i] !== delim) i++;
  return i;
}

/** The text of the field [start, stop), without its surrounding quotes and with `""` read as `"`. */
export function fieldText(buf: Buffer, start: number, stop: number): string {
  if (stop > start && buf[start] === QUOTE) {
    const close = stop - 1 > start && buf[stop - 1] === QUOTE ? stop - 1 : stop;
    return buf.toString('utf8', start + 1, close).replaceAll('""', '"');
  }
  return buf.toString('utf8', start, stop);
}

/** All fields of the line [start, end) as strings: for headers and small files only. */
export function splitLine(buf: Buffer, start: number, end: number, delim: number): string[] {
  const fields: string[] = [];
  let pos = start;
  for (;;) {
    const stop = fieldEnd(buf, pos, end, delim);
    fields.push(fieldText(buf, pos, stop));
    if (stop >= end) return fields;
    pos = stop + 1;
  }
}

/** Number of fields of the line [start, end), for "expected N fields, but got M". */
export function countFields(buf: Uint8Array, start: number, end: number, delim: number): number {
  let n = 1;
  let pos = start;
  for (;;) {
    const stop = fieldEnd(buf, pos, end, delim);
    if (stop >= end) return n;
    n++;
    pos = stop + 1;
  }
}

// Exact powers of ten: a double holds 10^k exactly up to k = 22.
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * Parses plain decimal numbers (`-1.25`, `3`, `.5`, `6.02e23`) straight from bytes.
 * `scan` returns NaN whenever the field is not such a number or could lose
 * precision on this path; the caller then takes the field's text and calls
 * `parseNumberText`, which either parses it or leads to an error message.
 *
 * Correct rounding: the significant digits (at most 15) form an exact integer
 * and 10^k (|k| <= 22) is exact, so one multiplication or division gives the
 * correctly rounded double (Clinger's fast path), the same as `Number(text)`.
 */
export class NumberScanner {
  /** Index just after the last byte read by `scan`: the delimiter or the line end. */
  end = 0;

  scan(buf: Uint8Array, pos: number, lineEnd: number, delim: number): number {
    let i = pos;
    let negative = false;
    let c = i < lineEnd ? (buf[i] as number) : -1;
    if (c === 0x2d) {
      negative = true;
      i++;
    } else if (c === 0x2b) i++;
    let mantissa = 0;
    let significant = 0;
    let digits = 0;
    let exponent = 0;
    while (i < lineEnd) {
      c = buf[i] as number;
      if (c < 0x30 || c > 0x39) break;
      mantissa = mantissa * 10 + (c - 0x30);
      if (mantissa !== 0) significant++;
      digits++;
      i++;
    }
    if (i < lineEnd && buf[i] === 0x2e) {
      i++;
      while (i < lineEnd) {
        c = buf[i] as number;
        if (c < 0x30 || c > 0x39) break;
        mantissa = mantissa * 10 + (c - 0x30);
        if (mantissa !== 0) significant++;
        digits++;
        exponent--;
        i++;
      }
    }
    if (digits === 0 || significant > 15) return Number.NaN;
    if (i < lineEnd && (buf[i] === 0x65 || buf[i] === 0x45)) {
      i++;
      let expNegative = false;
      if (i < lineEnd && (buf[i] === 0x2d || buf[i] === 0x2b)) {
        expNegative = buf[i] === 0x2d;
        i++;
      }
      let e = 0;
      let expDigits = 0;
      while (i < lineEnd) {
        c = buf[i] as number;
        if (c < 0x30 || c > 0x39) break;
        e = e * 10 + (c - 0x30);
        expDigits++;
        i++;
        if (e > 1000) return Number.NaN;
      }
      if (expDigits === 0) return Number.NaN;
      exponent += expNegative ? -e : e;
    }
    if (i < lineEnd && buf[i] !== delim) return Number.NaN;
    let value: number;
    if (exponent === 0 || mantissa === 0) value = mantissa;
    else if (exponent > 0 && exponent <= 22) value = mantissa * (POW10[exponent] as number);
    else if (exponent < 0 && exponent >= -22) value = mantissa / (POW10[-exponent] as number);
    else return Number.NaN;
    this.end = i;
    return negative ? -value : value;
  }
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The slow path: a finite decimal number written as text (surrounding spaces
 * allowed), else NaN. Stricter than `Number()`, which also accepts "", "0x1f"
 * and "Infinity".
 */
export function parseNumberText(text: string): number {
  const trimmed = text.trim();
  if (!DECIMAL.test(trimmed)) return Number.NaN;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : Number.NaN;
}
