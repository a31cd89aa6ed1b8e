import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import type { ParamDef } from '../../../coordinator/space/search-space.js';

/** tests/fixtures/tpe/*.json, made by bench/reference/tpe_fixtures.py. JSON has no inf/nan: they come as strings. */
export type Num = number | 'inf' | '-inf' | 'nan';

export function num(x: Num): number {
  if (x === 'inf') return Number.POSITIVE_INFINITY;
  if (x === '-inf') return Number.NEGATIVE_INFINITY;
  if (x === 'nan') return Number.NaN;
  return x;
}

export function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/tpe/${name}`, import.meta.url), 'utf8')) as T;
}

export interface TruncnormFixtures {
  generated_by: string;
  producer: string;
  cases: Array<{
    a: Num;
    b: Num;
    ppf: Array<{ q: number; scipy: Num; exact: Num | null }>;
    logpdf: Array<{ x: number; scipy: Num; exact: Num | null }>;
    logcdf: Array<{ x: number; scipy: Num; exact: Num | null }>;
  }>;
  scaled: Array<{ x: number; a: Num; b: Num; loc: number; scale: number; logpdf: Num; logcdf: Num }>;
}

export interface ParzenCase {
  name: string;
  producer: string;
  space: Array<[string, ParamDef]>;
  observations: Record<string, number[]>;
  mixture_weights: Num[];
  dims: Array<{ mu: Num[]; sigma: Num[] } | { weights: Num[][] }>;
  points: Record<string, number[]>;
  log_pdf: Num[];
}

export interface SplitCase {
  name: string;
  producer: string;
  n_finished: number;
  gamma: number;
  below: number[];
  above: number[];
  weights_below: number[];
  weights_above: number[];
}

export interface SplitFixtures {
  generated_by: string;
  v5: { splits: SplitCase[]; default_weights: Record<string, number[]>; default_gamma: Record<string, number> };
  v3_1: { splits: SplitCase[]; default_weights: Record<string, number[]> };
}

/**
 * |actual - expected| <= rel |expected| + abs; equal infinities and NaN
 * against NaN pass.
 */
export function assertClose(actual: number, expected: number, rel: number, abs: number, what: string): void {
  if (Number.isNaN(expected)) return assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
  if (!Number.isFinite(expected)) return assert.equal(actual, expected, `${what}: expected ${expected}, got ${actual}`);
  const err = Math.abs(actual - expected);
  assert.ok(err <= rel * Math.abs(expected) + abs, `${what}: expected ${expected}, got ${actual} (error ${err.toExponential(2)})`);
}
