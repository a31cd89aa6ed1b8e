/**
 * The head-to-head benchmark's problems, read from bench/tpe/problems.json:
 * the one definition that this file and bench/tpe/problems.py (the Optuna
 * side) both evaluate. Every problem is a minimisation: `evaluate` gives f,
 * regret is f(best) - fstar, and cellsweep's samplers (which maximise) are
 * told -f. Spaces are sweep-file `space:` mappings, parsed by the coordinator's
 * own parser, so they are exactly what a sweep would use.
 */
import { readFileSync } from 'node:fs';
import { isMap, isSeq, parseDocument, type Node, type YAMLMap } from 'yaml';
import type { ParamValue, Params } from '../../core/params.js';
import { parseSpace, YamlContext } from '../../coordinator/space/parse-space.js';
import { cardinality, stepValue, type ParamDef, type SearchSpace } from '../../coordinator/space/search-space.js';

export const PROBLEMS_FILE = new URL('./problems.json', import.meta.url).pathname;

export type Centre = number | { by: string; table: Record<string, number> };

export interface QuadraticTerm {
  var: string;
  transform: 'identity' | 'log10' | 'log2';
  centre: Centre;
  weight: number;
}

export interface Objective {
  kind: 'branin' | 'hartmann' | 'rosenbrock' | 'ackley' | 'levy' | 'styblinski-tang' | 'quadratic';
  vars?: string[];
  constants?: string;
  terms?: QuadraticTerm[];
  /** A categorical parameter: f = scale[by] * base + offset[by]. */
  by?: string;
  scale?: Record<string, number>;
  offset?: Record<string, number>;
}

export interface HartmannConstants {
  alpha: number[];
  A: number[][];
  P: number[][];
}

export interface Problem {
  name: string;
  about: string;
  space: SearchSpace;
  objective: Objective;
  fstar: number;
  argmin: Params;
  /** The problem's entry in problems.json, as written (handed to the Python side unchanged). */
  json: unknown;
  /** f at a configuration of the space. */
  evaluate(params: Params): number;
}

interface ProblemsFile {
  constants: Record<string, HartmannConstants>;
  problems: Array<{ name: string; about: string; objective: Objective; fstar: number; argmin: Record<string, ParamValue> }>;
}

export function loadProblems(file = PROBLEMS_FILE): Problem[] {
  const source = readFileSync(file, 'utf8');
  const doc = parseDocument(source);
  if (doc.errors.length > 0) throw doc.errors[0]!;
  const data = doc.toJS() as ProblemsFile;
  const ctx = new YamlContext(file, source, doc);
  const list = (doc.contents as YAMLMap).get('problems', true) as Node;
  if (!isSeq(list)) throw new Error(`${file}: 'problems' is not a list`);
  return data.problems.map((p, i) => {
    const node = list.items[i] as Node;
    if (!isMap(node)) throw new Error(`${file}: problems[${i}] is not a mapping`);
    const space = parseSpace(node.get('space', true) as Node, ctx, `problems[${i}].space`);
    const objective = p.objective;
    const constants = objective.constants === undefined ? undefined : data.constants[objective.constants];
    if (objective.constants !== undefined && constants === undefined) throw new Error(`${p.name}: unknown constants '${objective.constants}'`);
    const evaluate = (params: Params): number => evaluateObjective(objective, constants, params);
    return { name: p.name, about: p.about, space, objective, fstar: p.fstar, argmin: p.argmin, json: (doc.toJS() as { problems: unknown[] }).problems[i], evaluate };
  });
}

function num(params: Params, name: string): number {
  const v = params[name];
  if (typeof v !== 'number') throw new Error(`parameter '${name}' is ${JSON.stringify(v)}, not a number`);
  return v;
}

function tableAt(table: Record<string, number> | undefined, params: Params, by: string, fallback: number): number {
  if (table === undefined) return fallback;
  const key = String(params[by]);
  const v = table[key];
  if (v === undefined) throw new Error(`no entry for ${by} = ${key}`);
  return v;
}

export function evaluateObjective(o: Objective, constants: HartmannConstants | undefined, params: Params): number {
  const x = (o.vars ?? []).map((name) => num(params, name));
  let base: number;
  switch (o.kind) {
    case 'branin':
      base = branin(x[0]!, x[1]!);
      break;
    case 'hartmann':
      base = hartmann(constants!, x);
      break;
    case 'rosenbrock':
      base = rosenbrock(x);
      break;
    case 'ackley':
      base = ackley(x);
      break;
    case 'levy':
      base = levy(x);
      break;
    case 'styblinski-tang':
      base = styblinskiTang(x);
      break;
    case 'quadratic':
      base = quadratic(o.terms!, params);
      break;
  }
  if (o.by === undefined) return base;
  return tableAt(o.scale, params, o.by, 1) * base + tableAt(o.offset, params, o.by, 0);
}

export function branin(x1: number, x2: number): number {
  const b = 5.1 / (4 * Math.PI * Math.PI);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  const u = x2 - b * x1 * x1 + c * x1 - 6;
  return u * u + 10 * (1 - t) * Math.cos(x1) + 10;
}

export function hartmann(k: HartmannConstants, x: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < k.alpha.length; i++) {
    let inner = 0;
    for (let j = 0; j < x.length; j++) {
      const d = x[j]! - k.P[i]![j]!;
      inner += k.A[i]![j]! * d * d;
    }
    sum += k.alpha[i]! * Math.exp(-inner);
  }
  return -sum;
}

export function rosenbrock(x: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i + 1]! - x[i]! * x[i]!;
    const b = x[i]! - 1;
    sum += 100 * a * a + b * b;
  }
  return sum;
}

export function ackley(x: readonly number[]): number {
  let sq = 0;
  let cs = 0;
  for (const v of x) {
    sq += v * v;
    cs += Math.cos(2 * Math.PI * v);
  }
  const d = x.length;
  return -20 * Math.exp(-0.2 * Math.sqrt(sq / d)) - Math.exp(cs / d) + 20 + Math.E;
}

export function levy(x: readonly number[]): number {
  const w = x.map((v) => 1 + (v - 1) / 4);
  const d = w.length;
  let sum = Math.sin(Math.PI * w[0]!) ** 2;
  for (let i = 0; i + 1 < d; i++) {
    const wi = w[i]!;
    sum += (wi - 1) * (wi - 1) * (1 + 10 * Math.sin(Math.PI * wi + 1) ** 2);
  }
  const wd = w[d - 1]!;
  return sum + (wd - 1) * (wd - 1) * (1 + Math.sin(2 * Math.PI * wd) ** 2);
}

export function styblinskiTang(x: readonly number[]): number {
  let sum = 0;
  for (const v of x) sum += v * v * v * v - 16 * v * v + 5 * v;
  return sum / 2;
}

function transform(kind: QuadraticTerm['transform'], v: number): number {
  switch (kind) {
    case 'identity':
      return v;
    case 'log10':
      return Math.log10(v);
    case 'log2':
      return Math.log2(v);
  }
}

function centreOf(c: Centre, params: Params): number {
  return typeof c === 'number' ? c : tableAt(c.table, params, c.by, 0);
}

export function quadratic(terms: readonly QuadraticTerm[], params: Params): number {
  let sum = 0;
  for (const t of terms) {
    const d = transform(t.transform, num(params, t.var)) - centreOf(t.centre, params);
    sum += t.weight * d * d;
  }
  return sum;
}

/** Every value of a discrete parameter, in order. */
export function valuesOf(def: ParamDef): ParamValue[] {
  const n = cardinality(def);
  if (!Number.isFinite(n)) throw new Error('a continuous parameter has no value list');
  if (def.type === 'categorical') return [...def.choices];
  if (def.type === 'int') return Array.from({ length: n }, (_, k) => def.low + k * def.step);
  return Array.from({ length: n }, (_, k) => stepValue(def.low, def.step!, k));
}

/**
 * The exact minimum of a quadratic problem, and where: the objective is a sum
 * of one-parameter terms plus a categorical offset, so for each value of the
 * conditioning categorical (if any) each term is minimised on its own: a
 * continuous parameter at its centre clipped to the range (the transform is
 * monotone), a discrete one by trying every value.
 */
export function quadraticOptimum(problem: Pick<Problem, 'space' | 'objective' | 'evaluate'>): { fstar: number; argmin: Params } {
  const o = problem.objective;
  if (o.kind !== 'quadratic') throw new Error('not a quadratic problem');
  const defs = new Map(problem.space.params);
  const byChoices: ParamValue[] = o.by === undefined ? [undefined as unknown as ParamValue] : valuesOf(defs.get(o.by)!);
  let best: { fstar: number; argmin: Params } | undefined;
  for (const choice of byChoices) {
    const point: Record<string, ParamValue> = {};
    if (o.by !== undefined) point[o.by] = choice;
    for (const t of o.terms!) {
      const def = defs.get(t.var)!;
      const centre = centreOf(t.centre, point);
      if (def.type === 'categorical') throw new Error('a quadratic term on a categorical parameter');
      if (Number.isFinite(cardinality(def))) {
        let arg = Number.NaN;
        let f = Number.POSITIVE_INFINITY;
        for (const v of valuesOf(def) as number[]) {
          const d = transform(t.transform, v) - centre;
          if (d * d < f) [f, arg] = [d * d, v];
        }
        point[t.var] = arg;
      } else {
        const inv = t.transform === 'identity' ? centre : t.transform === 'log10' ? 10 ** centre : 2 ** centre;
        point[t.var] = Math.min(def.high, Math.max(def.low, inv));
      }
    }
    const f = problem.evaluate(point);
    if (best === undefined || f < best.fstar) best = { fstar: f, argmin: point };
  }
  return best!;
}

/** Problems whose parameters are all discrete (where `rejectDuplicates` applies). */
export function isDiscreteSpace(space: SearchSpace): boolean {
  return space.params.every(([, def]) => Number.isFinite(cardinality(def)));
}
