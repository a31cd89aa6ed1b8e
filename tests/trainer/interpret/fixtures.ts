import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

/** tests/fixtures/interpret/markers.json, made by bench/reference/markers_fixtures.py. */
export interface MarkerGeneFixture {
  gene: string;
  logFoldChange: number;
  statistic: number;
  pValue: number;
  pAdjusted: number;
}
export interface MatrixFixture {
  name: string;
  rows: number;
  cols: number;
  genes: string[];
  x: number[];
  sensitive: boolean[];
  scores?: number[];
}
export interface PerGene {
  z_sensitive: number[];
  z_resistant: number[];
  p_sensitive: number[];
  p_resistant: number[];
  logp_sensitive: number[];
  logp_resistant: number[];
  p_adj_sensitive: number[];
  p_adj_resistant: number[];
  lfc_sensitive: number[];
  lfc_resistant: number[];
}
export interface MarkersCase {
  name: string;
  scale: 'counts' | 'normalized';
  matrix: string;
  tie_correct: boolean;
  opts: { pMax: number; minAbsLfc: number; top: number };
  per_gene: PerGene;
  markers: { sensitive: MarkerGeneFixture[]; resistant: MarkerGeneFixture[] };
}
export interface Fixtures {
  generated_by: string;
  versions: Record<string, string>;
  erfc: { x: number; scipy: number; exact: number; log_exact: number | null }[];
  normal_sf: { z: number; sf_scipy: number; logsf_scipy: number; sf_exact: number; logsf_exact: number }[];
  groups: { name: string; scores: number[]; threshold: number; sensitive: boolean[] }[];
  matrices: MatrixFixture[];
  markers: MarkersCase[];
}

export const fixtures = JSON.parse(
  readFileSync(new URL('../../fixtures/interpret/markers.json', import.meta.url), 'utf8'),
) as Fixtures;

export function matrixOf(name: string): MatrixFixture & { values: Float32Array } {
  const m = fixtures.matrices.find((c) => c.name === name);
  assert.ok(m, `no fixture matrix ${name}`);
  return { ...m, values: Float32Array.from(m.x) };
}

/** The smallest positive normal double: below it a double has fewer than 53 significant bits. */
export const DBL_MIN = 2.2250738585072014e-308;

/** |actual - expected| <= rel * |expected|, with `abs` as a floor for values near 0. */
export function assertClose(actual: number, expected: number, rel: number, what: string, abs = 0): void {
  const err = Math.abs(actual - expected);
  assert.ok(
    err <= Math.max(rel * Math.abs(expected), abs),
    `${what}: expected ${expected}, got ${actual} (relative error ${err / Math.abs(expected)})`,
  );
}
