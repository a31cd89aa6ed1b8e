import { Document, isMap, isScalar, visit } from 'yaml';
import { ConfigError } from '../../core/errors.js';
import { modelSpec } from '../../core/model-specs.js';
import type { ParamValue } from '../../core/params.js';
import { MAX_SEED, Rng } from '../../core/rng.js';
import type { SweepState } from '../study/sweep-state.js';

/**
 * The SCTL paper's checks of a chosen configuration (SCIENCE.md, "The tuning
 * protocol"), as a sweep file run with the ordinary machinery, so they are
 * resumable and dispatched like any sweep. Per study with a best trial:
 *
 * - `<study>-seeds`: the best configuration with `seeds` fresh random seeds
 *   (section 3.3);
 * - `<study>-subsamples`: the best configuration on `subsamples` random
 *   `fraction` shares of the target cells, one run each (section 3.3;
 *   the `target_fraction` and `target_subsample` settings);
 * - `<study>-ablation` (families with `l1` and `l2`): the best configuration
 *   with l1 = 0 (no OT), l2 = 0 (no MMD) and both, beside itself, on the
 *   study's own seeds (section 3.2).
 *
 * `cellsweep report DIR --all-trials` then gives each trial's mean ± std and,
 * per study, the mean ± std over its trials (the subsample figure).
 */
export interface FollowupOptions {
  seeds: number;
  subsamples: number;
  fraction: number;
  /** Seeds the draw of the fresh seeds. */
  seed: number;
}

export const FOLLOWUP_DEFAULTS: FollowupOptions = { seeds: 20, subsamples: 20, fraction: 0.8, seed: 0 };

type Space = Record<string, { type: 'categorical'; choices: ParamValue[] } | { type: 'int'; low: number; high: number }>;

interface StudyEntry {
  name: string;
  dataset: string;
  model: string;
  sampler: 'grid';
  seeds: number[];
  space: Space;
  fixed: Record<string, ParamValue>;
}

export function checkFollowupOptions(opts: FollowupOptions): void {
  if (!Number.isInteger(opts.seeds) || opts.seeds < 1) throw new ConfigError(`expected a whole number >= 1, but got ${opts.seeds}`, { field: '--seeds' });
  if (!Number.isInteger(opts.subsamples) || opts.subsamples < 2) throw new ConfigError(`expected a whole number >= 2, but got ${opts.subsamples}`, { field: '--subsamples' });
  if (!(opts.fraction >= 0.05 && opts.fraction < 1)) throw new ConfigError(`expected a share of the cells in [0.05, 1), but got ${opts.fraction}`, { field: '--fraction' });
}

export function followupSweep(state: SweepState, opts: FollowupOptions): { yaml: string; studies: number; runs: number; skipped: string[] } {
  checkFollowupOptions(opts);
  const studies: StudyEntry[] = [];
  const skipped: string[] = [];
  for (const study of state.studies.values()) {
    const best = study.progress.best;
    const { name, dataset, model } = study.config;
    if (best === undefined) {
      skipped.push(`${name}: no complete trial yet`);
      continue;
    }
    const settings: Record<string, ParamValue> = { ...study.config.fixed, ...best.params };
    const without = (...keys: string[]): Record<string, ParamValue> => Object.fromEntries(Object.entries(settings).filter(([k]) => !keys.includes(k)));
    const common = { dataset, model, sampler: 'grid' as const };
    const target = modelSpec(model).settings;
    if (!('target_fraction' in target)) {
      skipped.push(`${name}: model '${model}' has no target_fraction setting`);
      continue;
    }
    // A grid needs one parameter: a one-choice categorical of the setting as it is gives one configuration.
    studies.push({
      name: `${name}-seeds`,
      ...common,
      seeds: freshSeeds(new Rng(`followup:${opts.seed}:${name}`), opts.seeds),
      space: { target_fraction: { type: 'categorical', choices: [settings.target_fraction ?? 1] } },
      fixed: without('target_fraction'),
    });
    studies.push({
      name: `${name}-subsamples`,
      ...common,
      seeds: [study.config.seeds[0]!],
      space: { target_subsample: { type: 'int', low: 1, high: opts.subsamples } },
      fixed: { ...without('target_subsample'), target_fraction: opts.fraction },
    });
    if ('l1' in target && 'l2' in target) {
      const off = (key: string): ParamValue[] => [...new Set([settings[key] ?? (target[key]!.default as ParamValue), 0])];
      studies.push({
        name: `${name}-ablation`,
        ...common,
        seeds: [...study.config.seeds],
        space: { l1: { type: 'categorical', choices: off('l1') }, l2: { type: 'categorical', choices: off('l2') } },
        fixed: without('l1', 'l2'),
      });
    }
  }
  if (studies.length === 0) throw new ConfigError(`no study has a best configuration to follow up (${skipped.join('; ')})`);
  const runs = studies.reduce((sum, s) => sum + s.seeds.length * gridSize(s.space), 0);
  const header =
    `# Follow-up of sweep ${state.config.name} (${state.sweepId}): SCTL's robustness and ablation checks\n` +
    `# of each study's best configuration (cellsweep followup; docs/sweep-file.md, "Follow-up").\n`;
  const doc = new Document({ name: `${state.config.name}-followup`, studies });
  // Lists and parameter definitions on one line each, as a person writes a sweep file.
  visit(doc, {
    Seq: (_, node) => void (node.items.every((item) => isScalar(item)) && (node.flow = true)),
    Map: (_, node) => void (isMap(node) && node.has('type') && (node.flow = true)),
  });
  return { yaml: header + doc.toString({ lineWidth: 0, flowCollectionPadding: false }), studies: studies.length, runs, skipped };
}

function gridSize(space: Space): number {
  return Object.values(space).reduce((n, p) => n * (p.type === 'categorical' ? p.choices.length : p.high - p.low + 1), 1);
}

function freshSeeds(rng: Rng, n: number): number[] {
  const seeds = new Set<number>();
  while (seeds.size < n) seeds.add(rng.int(0, MAX_SEED));
  return [...seeds];
}
