import { ConfigError, describe, expected } from '../../core/errors.js';
import type { ParamValue, Params } from '../../core/params.js';
import type { Sampler, TrialState, TrialView } from '../samplers/sampler.js';
import { contains, type SearchSpace } from '../space/search-space.js';

export type Direction = 'maximize' | 'minimize';

/** How a trial ended, as its evaluator tells it. */
export type TellOutcome =
  | { state: 'COMPLETE'; value: number }
  | { state: 'PRUNED'; intermediate?: number[] }
  | { state: 'FAIL'; reason?: string };

export interface AskedTrial {
  trial: number;
  params: Params;
}

/**
 * A study driven from outside: ask for configurations, evaluate them
 * anywhere, tell the results. No server, no journal (ask-tell-log.ts adds
 * one); the same samplers as the sweep loop. Values are maximised unless the
 * study minimises; samplers always see "larger is better".
 *
 * Every mutation checks first and changes nothing on a bad call, so a
 * caller's mistake (an unknown trial, a second tell, a NaN) is an error, not a
 * corrupted history.
 */
export class AskTellStudy {
  private readonly views: TrialView[] = [];

  constructor(
    readonly space: SearchSpace,
    readonly sampler: Sampler,
    readonly direction: Direction = 'maximize',
  ) {}

  /** The next configuration, or null when the sampler has no more (an exhausted grid). */
  ask(): AskedTrial | null {
    return this.askBatch(1)[0] ?? null;
  }

  /** k configurations at once, each asked as if the ones before it were running (for k idle workers). */
  askBatch(k: number): AskedTrial[] {
    const first = this.views.length;
    return this.propose(k).map((params, i) => this.record(first + i, params));
  }

  /** What `askBatch(k)` would ask, without recording it (a caller journals it first). */
  propose(k: number): Params[] {
    if (!Number.isInteger(k) || k < 1) throw new ConfigError(expected('a batch size >= 1', k), { field: 'n' });
    const first = this.views.length;
    let batch: Params[];
    if (this.sampler.suggestBatch !== undefined) {
      batch = this.sampler.suggestBatch(this.space, this.views, first, k);
    } else {
      batch = [];
      const history = [...this.views];
      for (let i = 0; i < k; i++) {
        const params = this.sampler.suggest(this.space, history, first + i);
        if (params === null) break;
        batch.push(params);
        history.push({ number: first + i, state: 'RUNNING', params });
      }
    }
    return batch;
  }

  /** Adds a trial asked elsewhere (a replayed log): it must be the next number and inside the space. */
  record(trial: number, params: Params): AskedTrial {
    if (trial !== this.views.length) throw new ConfigError(`trial ${trial} asked out of order (expected ${this.views.length})`, { field: 'trial' });
    for (const [name, def] of this.space.params) {
      const value = params[name];
      if (value === undefined || !contains(def, value)) throw new ConfigError(expected(`a value of parameter '${name}' inside the space`, value), { field: `trial ${trial}.${name}` });
    }
    // Frozen, as a sweep's state holds a trial's params: the TPE sampler's cache reuses its row.
    this.views.push({ number: trial, state: 'RUNNING', params: Object.freeze({ ...params }) });
    return { trial, params };
  }

  tell(trial: number, outcome: TellOutcome): void {
    this.checkTell(trial, outcome);
    const view = this.views[trial] as TrialView;
    switch (outcome.state) {
      case 'COMPLETE':
        view.state = 'COMPLETE';
        view.value = this.direction === 'maximize' ? outcome.value : -outcome.value;
        return;
      case 'PRUNED': {
        const steps = outcome.intermediate ?? [];
        view.state = 'PRUNED';
        view.intermediate = this.direction === 'maximize' ? [...steps] : steps.map((v) => -v);
        return;
      }
      case 'FAIL':
        view.state = 'FAIL';
        return;
    }
  }

  /** Throws what `tell` would throw, changing nothing: lets a caller journal a tell only once it is known to be valid. */
  checkTell(trial: number, outcome: TellOutcome): void {
    const view = this.views[trial];
    if (!Number.isInteger(trial) || view === undefined) throw new ConfigError(`trial ${describe(trial)} was never asked (${this.views.length} asked so far)`, { field: 'trial' });
    if (view.state !== 'RUNNING') throw new ConfigError(`trial ${trial} is already ${view.state}; a trial is told once`, { field: 'trial' });
    switch (outcome.state) {
      case 'COMPLETE':
        if (typeof outcome.value !== 'number' || !Number.isFinite(outcome.value)) {
          throw new ConfigError(expected('a finite value', outcome.value), { field: 'value' });
        }
        return;
      case 'PRUNED': {
        const steps = outcome.intermediate ?? [];
        if (!Array.isArray(steps) || steps.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
          throw new ConfigError(expected('a list of finite intermediate values', steps), { field: 'intermediate' });
        }
        return;
      }
      case 'FAIL':
        return;
      default:
        throw new ConfigError(expected('state COMPLETE, PRUNED or FAIL', (outcome as { state: unknown }).state), { field: 'state' });
    }
  }

  /** The best COMPLETE trial (ties: the earlier), in the caller's direction. */
  best(): { trial: number; params: Params; value: number } | undefined {
    let best: TrialView | undefined;
    for (const v of this.views) if (v.state === 'COMPLETE' && (best === undefined || (v.value as number) > (best.value as number))) best = v;
    if (best === undefined) return undefined;
    return { trial: best.number, params: best.params, value: this.direction === 'maximize' ? (best.value as number) : -(best.value as number) };
  }

  trials(): ReadonlyArray<{ trial: number; state: TrialState; params: Record<string, ParamValue>; value?: number }> {
    return this.views.map((v) => ({
      trial: v.number,
      state: v.state,
      params: { ...v.params },
      ...(v.value === undefined ? {} : { value: this.direction === 'maximize' ? v.value : -v.value }),
    }));
  }
}
