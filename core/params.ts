import type { ParamValue as WireParamValue } from '../proto/gen/cellsweep/v1/run.js';
import { ConfigError, expected } from './errors.js';

/** A hyperparameter or model setting as code sees it. */
export type ParamValue = number | string | boolean;
export type Params = Readonly<Record<string, ParamValue>>;

export function toWireParams(params: Params): Record<string, WireParamValue> {
  const out: Record<string, WireParamValue> = {};
  for (const [key, value] of Object.entries(params)) out[key] = toWireValue(value);
  return out;
}

export function fromWireParams(params: Record<string, WireParamValue>): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value.kind === undefined) throw new ConfigError(expected('a number, text or flag', undefined), { field: key });
    out[key] = value.kind.value;
  }
  return out;
}

function toWireValue(value: ParamValue): WireParamValue {
  switch (typeof value) {
    case 'number':
      return { kind: { $case: 'number', value } };
    case 'string':
      return { kind: { $case: 'text', value } };
    case 'boolean':
      return { kind: { $case: 'flag', value } };
  }
}

/** Exact identity of a configuration (full precision, key order ignored): for duplicate detection. */
export function paramsKey(params: Params): string {
  return JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]]));
}

/** Stable, short text form for logs and tables (6 significant digits: not an identity). */
export function formatParams(params: Params): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${k}=${formatValue(params[k] as ParamValue)}`)
    .join(' ');
}

export function formatValue(value: ParamValue): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  return String(value);
}
