import type { ParamValue } from '../../core/params.js';

/**
 * The distributions a search space is made of, in Optuna's terms: a float
 * (optionally log-scaled or stepped), an int (optionally stepped or
 * log-scaled) and a categorical. They are plain records so samplers can
 * switch over `type` exhaustively.
 */
export type ParamDef =
  | { type: 'float'; low: number; high: number; log: boolean; step?: number }
  | { type: 'int'; low: number; high: number; log: boolean; step: number }
  | { type: 'categorical'; choices: readonly ParamValue[] };

/** Parameters in the order they were declared (that order fixes grid and sampling order). */
export interface SearchSpace {
  readonly params: ReadonlyArray<readonly [name: string, def: ParamDef]>;
}

export function spaceOf(entries: Array<[string, ParamDef]>): SearchSpace {
  return { params: entries };
}

/** Whether `value` is a value `def` can produce (used to check resumed and told trials). */
export function contains(def: ParamDef, value: ParamValue): boolean {
  switch (def.type) {
    case 'categorical':
      return def.choices.some((c) => c === value);
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) && value >= def.low && value <= def.high && (value - def.low) % def.step === 0;
    case 'float':
      if (typeof value !== 'number' || value < def.low || value > def.high) return false;
      return def.step === undefined || isOnStep(value - def.low, def.step);
  }
}

function isOnStep(offset: number, step: number): boolean {
  const k = Math.round(offset / step);
  return Math.abs(offset - k * step) <= 1e-9 * Math.max(1, Math.abs(offset));
}

/** Number of distinct values, or Infinity for a continuous parameter. */
export function cardinality(def: ParamDef): number {
  switch (def.type) {
    case 'categorical':
      return def.choices.length;
    case 'int':
      return Math.floor((def.high - def.low) / def.step) + 1;
    case 'float':
      return def.step === undefined ? Number.POSITIVE_INFINITY : Math.round((def.high - def.low) / def.step) + 1;
  }
}

/** The k-th value of a stepped range, computed from the index so 0.1 steps give 0.3, not 0.30000000000000004. */
export function stepValue(low: number, step: number, k: number): number {
  return Number((low + k * step).toPrecision(12));
}
