import { ConfigError, describe, expected } from '../../../core/errors.js';

/**
 * TPE's options, compiled once: defaults added, each checked, then trusted.
 * The defaults are Optuna v5's TPESampler (multivariate, constant liar, 10
 * startup trials, 24 candidates); the options after constantLiar go beyond Optuna
 * and are off by default, so a default TpeSampler is comparable with
 * Optuna's. docs/tpe.md says when to turn them on.
 */
export interface TpeOptions {
  /** Trials drawn at random before TPE starts, counted on finished (COMPLETE, PRUNED) trials. */
  readonly nStartupTrials: number;
  /** Candidates drawn from the good density per suggestion; the best ratio wins. */
  readonly nEiCandidates: number;
  /** One joint (product-kernel) density over all parameters rather than one per parameter. */
  readonly multivariate: boolean;
  /** RUNNING trials join the bad group, so parallel workers are pushed away from each other's points. */
  readonly constantLiar: boolean;
  /** Beyond Optuna: RUNNING trials count toward the startup trials too, so N workers submit nStartupTrials random trials, not up to nStartupTrials + N - 1. */
  readonly startupCountsRunning: boolean;
  /** Beyond Optuna: 'latin-hypercube' gives trials 0 .. nStartupTrials-1 one stratified design instead of independent draws. */
  readonly startupDesign: 'random' | 'latin-hypercube';
  /** Beyond Optuna: in a space of only discrete parameters, never suggest a configuration already in the history. */
  readonly rejectDuplicates: boolean;
  /** Beyond Optuna: 'penalise' puts FAIL trials in the bad group (as if they had the worst value) instead of ignoring them. */
  readonly failedTrials: 'ignore' | 'penalise';
  /**
   * Beyond Optuna: every k-th suggestion (trial numbers k-1, 2k-1, ...) is
   * made with Optuna 3.1.0's density rules (parzen-estimator.ts,
   * `DensityRules`); 0 never. A portfolio of the two rule sets: v5's narrow
   * kernels can settle on the wrong basin, where 3.1's keep others in play
   * (docs/tpe.md, hartmann6-cat).
   */
  readonly optuna31Every: number;
  /**
   * Beyond Optuna: every k-th suggestion (trial numbers k-1, 2k-1, ...) keeps
   * TPE's choice of the numeric parameters and draws every categorical one
   * uniformly at random; 0 never. The joint kernels tie a good region to the
   * categories it was found with, so a category that wins only deep inside
   * that region is never tried there (docs/tpe.md, hartmann6-cat).
   */
  readonly categoricalMutationEvery: number;
  /**
   * Beyond Optuna: in a discrete space of at most this many points, score
   * every point not yet in the history and suggest the best, instead of
   * the best of nEiCandidates draws from l(x); 0 never. The draws only
   * approximate that argmax, and in a small grid (the paper's SCTL space
   * has 720 points) the exact one costs little and never repeats a
   * configuration (docs/tpe.md, the tabular SCTL benchmark).
   */
  readonly enumerateUpTo: number;
}

export const DEFAULT_TPE_OPTIONS: Readonly<TpeOptions> = Object.freeze({
  nStartupTrials: 10,
  nEiCandidates: 24,
  multivariate: true,
  constantLiar: true,
  startupCountsRunning: false,
  startupDesign: 'random',
  rejectDuplicates: false,
  failedTrials: 'ignore',
  optuna31Every: 0,
  categoricalMutationEvery: 0,
  enumerateUpTo: 0,
});

/**
 * Named settings a sweep file can start from (`sampler_options: {preset:
 * small-grid}`), each measured in BENCHMARKS.md for the kind of space its
 * name gives; options named beside a preset override it. Defined here, not
 * in the benchmarks, so the settings measured are the settings users get.
 *
 * A journal keeps sampler options as the sweep file wrote them, preset names
 * included, and a resumed sweep compiles them again: a preset's contents
 * must never change once released (a new setting takes a new name), or a
 * resumed sweep would go on with a sampler it did not start with.
 */
export const TPE_PRESETS = Object.freeze({
  /** Optuna v5's TPESampler: every option at its default, also those an earlier preset in a list set. */
  optuna: DEFAULT_TPE_OPTIONS,
  /** A pool of parallel trainers: startup counted on running trials, one stratified design, no repeats, failures pushed away. */
  'parallel-pool': Object.freeze({ startupCountsRunning: true, startupDesign: 'latin-hypercube', rejectDuplicates: true, failedTrials: 'penalise' }),
  /** Spaces with categorical parameters beside numeric ones: every fourth suggestion's categories at random (the sequential head-to-head). */
  'mixed-space': Object.freeze({ categoricalMutationEvery: 4 }),
  /** Small all-discrete spaces such as the paper's 720-point SCTL grid: the exact argmax over unseen points (the tabular SCTL benchmark). */
  'small-grid': Object.freeze({ enumerateUpTo: 10_000, optuna31Every: 1, nStartupTrials: 5, startupDesign: 'latin-hypercube' }),
} satisfies Record<string, Partial<TpeOptions>>);

export type TpePreset = keyof typeof TPE_PRESETS;

const STARTUP_DESIGNS = ['random', 'latin-hypercube'] as const;
/** Largest space enumerateUpTo may name: every suggestion scores that many points. */
export const ENUMERATE_MAX = 1 << 17;
const FAILED_TRIALS = ['ignore', 'penalise'] as const;

/**
 * The options as a sweep file gives them (snake_case keys, as Optuna's
 * arguments: `n_startup_trials: 20`), compiled; errors name `${field}.<key>`.
 * `preset` names one of TPE_PRESETS, or a list of them applied in order;
 * the other keys override what the presets set.
 */
export function compileTpeOptions(user: unknown = {}, field = 'tpe'): Readonly<TpeOptions> {
  if (user === null || typeof user !== 'object' || Array.isArray(user)) {
    throw new ConfigError(expected('a mapping of TPE options', user), { field });
  }
  const names = new Map(Object.keys(DEFAULT_TPE_OPTIONS).map((k) => [snakeCase(k), k]));
  const { preset, ...rest } = user as Record<string, unknown>;
  const options: Record<string, unknown> = preset === undefined ? {} : presetOptions(preset, `${field}.preset`);
  for (const [key, value] of Object.entries(rest)) {
    const name = names.get(key);
    if (name === undefined) throw new ConfigError(`unknown TPE option '${key}' (allowed: preset, ${[...names.keys()].join(', ')})`, { field: `${field}.${key}` });
    options[name] = value;
  }
  return checkTpeOptions(options as Partial<TpeOptions>, field);
}

/** The options of one preset, or of a list of presets merged in order. */
function presetOptions(preset: unknown, field: string): Partial<TpeOptions> {
  const list = Array.isArray(preset) ? preset : [preset];
  const refuse = (got: string): ConfigError => new ConfigError(`expected a TPE preset (${Object.keys(TPE_PRESETS).join(', ')}) or a list of them, but got ${got}`, { field });
  // An empty list is more likely a template left unfilled than a wish for the defaults.
  if (list.length === 0) throw refuse('an empty list');
  const merged: Partial<TpeOptions> = {};
  for (const name of list) {
    if (typeof name !== 'string' || !Object.hasOwn(TPE_PRESETS, name)) throw refuse(describe(name));
    Object.assign(merged, TPE_PRESETS[name as TpePreset]);
  }
  return merged;
}

/** Defaults plus `options` (code's camelCase names), each checked; errors name the option as a sweep file spells it. */
export function checkTpeOptions(options: Partial<TpeOptions> = {}, field = 'tpe'): Readonly<TpeOptions> {
  const allowed = Object.keys(DEFAULT_TPE_OPTIONS);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new ConfigError(`unknown TPE option '${key}' (allowed: ${allowed.join(', ')})`, { field: `${field}.${key}` });
  }
  const u = options as Record<string, unknown>;
  const at = (key: string): { field: string } => ({ field: `${field}.${snakeCase(key)}` });
  const int = (key: keyof TpeOptions, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = u[key] ?? DEFAULT_TPE_OPTIONS[key];
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(expected(`an integer ${range}`, v), at(key));
    return v;
  };
  const bool = (key: keyof TpeOptions): boolean => {
    const v = u[key] ?? DEFAULT_TPE_OPTIONS[key];
    if (typeof v !== 'boolean') throw new ConfigError(expected('true or false', v), at(key));
    return v;
  };
  const oneOf = <T extends string>(key: keyof TpeOptions, values: readonly T[]): T => {
    const v = u[key] ?? DEFAULT_TPE_OPTIONS[key];
    if (!(values as readonly unknown[]).includes(v)) throw new ConfigError(`expected one of ${values.join(', ')}, but got ${describe(v)}`, at(key));
    return v as T;
  };
  return Object.freeze({
    nStartupTrials: int('nStartupTrials', 0),
    nEiCandidates: int('nEiCandidates', 1),
    multivariate: bool('multivariate'),
    constantLiar: bool('constantLiar'),
    startupCountsRunning: bool('startupCountsRunning'),
    startupDesign: oneOf('startupDesign', STARTUP_DESIGNS),
    rejectDuplicates: bool('rejectDuplicates'),
    failedTrials: oneOf('failedTrials', FAILED_TRIALS),
    optuna31Every: int('optuna31Every', 0),
    categoricalMutationEvery: int('categoricalMutationEvery', 0),
    enumerateUpTo: int('enumerateUpTo', 0, ENUMERATE_MAX),
  });
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
