/**
 * The table of the tabular SCTL benchmark (bench/tpe/tabular-sctl.yaml): the
 * mean AUC of every configuration of the sctl-paper grid, read from the
 * trials.csv a complete grid sweep writes, so samplers can be scored by
 * looking configurations up instead of training them.
 */
import { readFileSync } from 'node:fs';
import { paramsKey, type ParamValue, type Params } from '../../core/params.js';
import type { SearchSpace } from '../../coordinator/space/search-space.js';

export interface Table {
  /** Mean AUC over the six seeds, by paramsKey of the configuration. */
  auc: Map<string, number>;
  best: number;
}

/** The value a trials.csv cell holds for a parameter, typed as the space's choices are. */
function cellValue(space: SearchSpace, name: string, text: string, where: string): ParamValue {
  const def = space.params.find(([n]) => n === name)?.[1];
  if (def === undefined) throw new Error(`${where}: '${name}' is not a parameter of the space`);
  if (def.type === 'categorical') {
    const match = def.choices.find((c) => String(c) === text);
    if (match === undefined) throw new Error(`${where}: ${name} = '${text}' is not one of ${def.choices.join(', ')}`);
    return match;
  }
  const n = Number(text);
  if (text === '' || !Number.isFinite(n)) throw new Error(`${where}: ${name} = '${text}' is not a number`);
  return n;
}

/**
 * Reads a grid sweep's trials.csv: every configuration of `space` must be
 * there once, COMPLETE, with a finite auc_mean.
 */
export function loadTable(file: string, space: SearchSpace, expectedSize: number): Table {
  const [header, ...rows] = readFileSync(file, 'utf8').trim().split('\n').map((line) => line.split(','));
  if (header === undefined) throw new Error(`${file}: empty`);
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${file}: no '${name}' column`);
    return i;
  };
  const names = space.params.map(([name]) => name);
  const paramCols = names.map(col);
  const stateCol = col('state');
  const aucCol = col('auc_mean');
  const auc = new Map<string, number>();
  rows.forEach((row, r) => {
    const where = `${file}:${r + 2}`;
    if (row[stateCol] !== 'COMPLETE') throw new Error(`${where}: trial is ${row[stateCol]}, not COMPLETE (is the grid sweep finished?)`);
    const params: Params = Object.fromEntries(names.map((name, i) => [name, cellValue(space, name, row[paramCols[i]!] ?? '', where)]));
    const value = Number(row[aucCol]);
    if (!Number.isFinite(value)) throw new Error(`${where}: auc_mean '${row[aucCol]}' is not a number`);
    const key = paramsKey(params);
    if (auc.has(key)) throw new Error(`${where}: configuration listed twice`);
    auc.set(key, value);
  });
  if (auc.size !== expectedSize) throw new Error(`${file}: ${auc.size} configurations, expected the whole grid (${expectedSize})`);
  return { auc, best: Math.max(...auc.values()) };
}

/** The table's AUC for a configuration (an error for one outside the grid). */
export function lookup(table: Table, params: Params): number {
  const value = table.auc.get(paramsKey(params));
  if (value === undefined) throw new Error(`configuration outside the table: ${paramsKey(params)}`);
  return value;
}

/**
 * How many trials a run took to reach a configuration within `tolerance` of
 * the table's best mean AUC (1-based), or Infinity if it never did, from the
 * run's regrets (best - AUC, trial by trial).
 */
export function trialsToTarget(regrets: readonly number[], tolerance: number): number {
  const i = regrets.findIndex((r) => r <= tolerance);
  return i < 0 ? Number.POSITIVE_INFINITY : i + 1;
}
