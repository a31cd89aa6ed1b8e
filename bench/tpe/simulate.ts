/**
 * How the head-to-head benchmark drives a cellsweep sampler: sequential
 * ask/tell, and a discrete-event simulation of asynchronous workers. The
 * Python side (bench/tpe/head_to_head.py) drives Optuna by the same rules.
 */
import type { ParamValue, Params } from '../../core/params.js';
import { Rng } from '../../core/rng.js';
import type { Sampler, TrialView } from '../../coordinator/samplers/sampler.js';
import type { SearchSpace } from '../../coordinator/space/search-space.js';

export interface Run {
  /** f of trial i, by trial number. */
  values: number[];
  /** Async runs: the simulated time trial i ended. */
  ends?: number[];
  /** The value of each categorical parameter, by trial number. */
  choices?: Record<string, ParamValue[]>;
}

/** Records the categorical parameters' values of each trial (absent when the space has none). */
function choiceRecorder(space: SearchSpace): { record(number: number, params: Params): void; done(): Record<string, ParamValue[]> | undefined } {
  const names = space.params.filter(([, def]) => def.type === 'categorical').map(([name]) => name);
  const out: Record<string, ParamValue[]> = Object.fromEntries(names.map((n) => [n, []]));
  return {
    record: (number, params) => names.forEach((n) => (out[n]![number] = params[n]!)),
    done: () => (names.length === 0 ? undefined : out),
  };
}

/** Ask, evaluate, tell, `trials` times; the sampler is told -f (it maximises). */
export function runSequential(sampler: Sampler, space: SearchSpace, f: (p: Params) => number, trials: number): Run {
  const history: TrialView[] = [];
  const values: number[] = [];
  const choices = choiceRecorder(space);
  for (let i = 0; i < trials; i++) {
    const params = sampler.suggest(space, history, i);
    if (params === null) throw new Error(`${sampler.name} returned no suggestion at trial ${i}`);
    const value = f(params);
    history.push({ number: i, state: 'COMPLETE', params, value: -value });
    values.push(value);
    choices.record(i, params);
  }
  return withChoices({ values }, choices.done());
}

/**
 * Evaluation times, in units of their mean: log-normal with sigma 0.5
 * (exp(0.5 z - 0.125), mean 1), one table per seed, indexed by trial number.
 * The same table goes to the Python side, so both simulations see identical
 * timings; and because a duration does not depend on the configuration, the
 * schedule (which trial ends when) is the same for every sampler.
 */
export function durationTable(seed: number, n: number, sigma = 0.5): number[] {
  const rng = new Rng(`bench:tpe-head-to-head:durations:${seed}`);
  return Array.from({ length: n }, () => Math.exp(sigma * rng.normal() - (sigma * sigma) / 2));
}

/**
 * `workers` asynchronous workers, `trials` trials in all. At time 0 each
 * worker asks in turn (each seeing the earlier ones RUNNING); trial i runs
 * for durations[i]; the earliest end is processed first (ties: lower trial
 * number), its trial told, and its worker asks the next trial at once, with
 * the trials still running in the history as RUNNING.
 */
export function runAsync(
  sampler: Sampler,
  space: SearchSpace,
  f: (p: Params) => number,
  trials: number,
  workers: number,
  durations: readonly number[],
): Run {
  const history: TrialView[] = [];
  const values: number[] = new Array<number>(trials);
  const ends: number[] = new Array<number>(trials);
  const running: Array<{ end: number; number: number }> = [];
  const choices = choiceRecorder(space);
  const ask = (now: number): void => {
    const number = history.length;
    const params = sampler.suggest(space, history, number);
    if (params === null) throw new Error(`${sampler.name} returned no suggestion at trial ${number}`);
    history.push({ number, state: 'RUNNING', params });
    choices.record(number, params);
    running.push({ end: now + durations[number]!, number });
  };
  for (let w = 0; w < Math.min(workers, trials); w++) ask(0);
  while (running.length > 0) {
    let at = 0;
    for (let i = 1; i < running.length; i++) {
      const [a, b] = [running[i]!, running[at]!];
      if (a.end < b.end || (a.end === b.end && a.number < b.number)) at = i;
    }
    const { end, number } = running.splice(at, 1)[0]!;
    const trial = history[number]!;
    const value = f(trial.params);
    history[number] = { number, state: 'COMPLETE', params: trial.params, value: -value };
    values[number] = value;
    ends[number] = end;
    if (history.length < trials) ask(end);
  }
  return withChoices({ values, ends }, choices.done());
}

function withChoices(run: Run, choices: Record<string, ParamValue[]> | undefined): Run {
  return choices === undefined ? run : { ...run, choices };
}

/** Best-so-far regret after k = 1..n trials. */
export function regretCurve(values: readonly number[], fstar: number): number[] {
  let best = Number.POSITIVE_INFINITY;
  return values.map((v) => (best = Math.min(best, v)) - fstar);
}

/** Regret of the best trial ended by time t, or Infinity when none has. */
export function regretAt(run: Run, fstar: number, t: number): number {
  let best = Number.POSITIVE_INFINITY;
  run.values.forEach((v, i) => {
    if (run.ends![i]! <= t) best = Math.min(best, v);
  });
  return best - fstar;
}
