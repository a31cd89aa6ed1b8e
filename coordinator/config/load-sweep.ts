import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, type Node, type YAMLMap } from 'yaml';
import { ConfigError, describe, expected } from '../../core/errors.js';
import { checkSetting, modelSpec, type ModelSpec } from '../../core/model-specs.js';
import type { ParamValue } from '../../core/params.js';
import { MAX_SEED } from '../../core/rng.js';
import { PAPER_SEEDS } from '../../core/runs.js';
import { compilePruner } from '../pruners/index.js';
import { createSampler, SAMPLER_NAMES } from '../samplers/index.js';
import { BUILTIN_SPACES } from '../space/builtin-spaces.js';
import { parseSpace, YamlContext } from '../space/parse-space.js';
import type { ParamDef, SearchSpace } from '../space/search-space.js';
import type { StudyConfig, SweepConfig } from './sweep-config.js';

/**
 * Reads and checks a sweep file. Everything that can be checked without the
 * datasets is checked here, with file, line and field in every message, so a
 * bad file fails before a single trainer starts.
 *
 *   name: demo
 *   model: bulk-mlp
 *   sampler: random          # random | grid | tpe
 *   sampler_options: {}      # tpe only: preset, n_startup_trials, multivariate, ... (docs/tpe.md)
 *   pruner: {name: seeds}    # median | successive-halving | seeds, with options; default none
 *   seed: 0                  # sampler seed
 *   trials: 8                # per study (grid: default = whole grid)
 *   seeds: [42, 50, 60, 70, 80, 124]
 *   space: bulk-mlp          # built-in name or a mapping
 *   fixed: {epochs: 20}
 *   trainers: 2
 *   studies:
 *     - dataset: data/data1  # relative to this file
 *       name: data1          # optional; per-study trials/space/fixed/model/seeds override
 */
export function loadSweepFile(file: string): SweepConfig {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the sweep file: ${(err as Error).message}`, { file }, { cause: err });
  }
  return parseSweep(source, file, dirname(resolve(file)));
}

const TOP_KEYS = ['name', 'model', 'sampler', 'sampler_options', 'pruner', 'seed', 'trials', 'seeds', 'space', 'fixed', 'trainers', 'studies'];
const STUDY_KEYS = ['name', 'dataset', 'model', 'sampler', 'sampler_options', 'pruner', 'seed', 'trials', 'seeds', 'space', 'fixed'];
const DEFAULT_TRIALS = 20;

export function parseSweep(source: string, file: string, baseDir: string): SweepConfig {
  const doc = parseDocument(source, { uniqueKeys: true, prettyErrors: true });
  const ctx = new YamlContext(file, source, doc);
  const first = doc.errors[0];
  if (first !== undefined) {
    const line = first.linePos?.[0]?.line;
    // prettyErrors adds " at line L, column C:" and a code frame; the place goes in front instead.
    const message = (first.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    const detail = first.code === 'DUPLICATE_KEY' ? `duplicated key: ${message}` : `malformed YAML: ${message}`;
    throw new ConfigError(detail, line === undefined ? { file } : { file, line });
  }
  const root = doc.contents;
  if (!isMap(root)) throw ctx.error(expected('a mapping at the top of the sweep file', ctx.js(root as Node)), root as Node, '(top)');
  rejectUnknownKeys(root, TOP_KEYS, ctx, '');

  const name = optionalText(root, 'name', ctx, 'name') ?? basename(file).replace(/\.ya?ml$/, '');
  const studiesNode = root.get('studies', true) as Node | undefined;
  if (!isSeq(studiesNode) || studiesNode.items.length === 0) {
    throw ctx.error(expected('a non-empty list of studies (each with a dataset)', ctx.js(studiesNode)), studiesNode ?? root, 'studies');
  }
  const studies = studiesNode.items.map((item, i) => parseStudy(item as Node, root, ctx, `studies[${i}]`, baseDir));
  const seen = new Map<string, string>();
  studies.forEach((s, i) => {
    const other = seen.get(s.name);
    if (other !== undefined) {
      throw ctx.error(`duplicated study name '${s.name}' (also ${other}); give each study a distinct name`, studiesNode.items[i] as Node, `studies[${i}].name`);
    }
    seen.set(s.name, `studies[${i}]`);
  });
  const trainers = optionalInt(root, 'trainers', ctx, 'trainers', 1);
  const config: SweepConfig = { name, studies, source: file };
  if (trainers !== undefined) config.trainers = trainers;
  return config;
}

function parseStudy(node: Node, root: YAMLMap, ctx: YamlContext, field: string, baseDir: string): StudyConfig {
  if (!isMap(node)) throw ctx.error(expected('a mapping with a dataset', ctx.js(node)), node, field);
  rejectUnknownKeys(node, STUDY_KEYS, ctx, field);
  // A study key wins over the same top-level key.
  const pick = (key: string): { node: Node | undefined; field: string } => {
    const own = node.get(key, true) as Node | undefined;
    if (own !== undefined) return { node: own, field: `${field}.${key}` };
    return { node: root.get(key, true) as Node | undefined, field: key };
  };
  const dataset = optionalText(node, 'dataset', ctx, `${field}.dataset`);
  if (dataset === undefined || dataset === '') throw ctx.error(expected('a dataset directory', dataset), node, `${field}.dataset`);
  const datasetPath = resolve(baseDir, dataset);
  const studyName = optionalText(node, 'name', ctx, `${field}.name`) ?? basename(datasetPath);

  const modelAt = pick('model');
  const modelName = modelAt.node === undefined ? 'bulk-mlp' : scalarText(modelAt.node, ctx, modelAt.field);
  let spec: ModelSpec;
  try {
    spec = modelSpec(modelName);
  } catch (err) {
    throw ctx.error((err as Error).message.replace(/^field 'model': /, ''), modelAt.node, modelAt.field);
  }

  const spaceAt = pick('space');
  const space = spaceAt.node === undefined ? defaultSpace(spec, ctx, node, field) : parseSpace(spaceAt.node, ctx, spaceAt.field);
  const fixedAt = pick('fixed');
  const fixed = parseFixed(fixedAt.node, ctx, fixedAt.field);
  checkAgainstModel(spec, space, fixed, ctx, spaceAt, fixedAt);

  const samplerAt = pick('sampler');
  const sampler = samplerAt.node === undefined ? 'random' : scalarText(samplerAt.node, ctx, samplerAt.field);
  if (!(SAMPLER_NAMES as readonly string[]).includes(sampler)) {
    throw ctx.error(expected(`a sampler (${SAMPLER_NAMES.join(', ')})`, sampler), samplerAt.node, samplerAt.field);
  }
  const seedAt = pick('seed');
  const samplerSeed = seedAt.node === undefined ? 0 : intValue(seedAt.node, ctx, seedAt.field, 0, MAX_SEED);
  const optionsAt = pick('sampler_options');
  const samplerOptions = optionsAt.node === undefined ? undefined : (ctx.js(optionsAt.node) as Record<string, unknown>);
  let created;
  try {
    created = createSampler(sampler, samplerSeed, samplerOptions, optionsAt.field);
  } catch (err) {
    throw placeInMapping(err, ctx, optionsAt.node ?? samplerAt.node, optionsAt.field);
  }
  let capacity: number;
  try {
    capacity = created.capacity(space);
  } catch (err) {
    throw ctx.error((err as Error).message.replace(/^field '[^']*': /, ''), spaceAt.node ?? samplerAt.node, spaceAt.field);
  }
  const trialsAt = pick('trials');
  const trials = trialsAt.node === undefined ? Math.min(capacity, sampler === 'grid' ? capacity : DEFAULT_TRIALS) : intValue(trialsAt.node, ctx, trialsAt.field, 1);
  if (trials > capacity) {
    throw ctx.error(`asks for ${trials} trials but the ${sampler} sampler has only ${capacity} distinct configurations`, trialsAt.node, trialsAt.field);
  }
  const seedsAt = pick('seeds');
  const seeds = seedsAt.node === undefined ? [...PAPER_SEEDS] : parseSeeds(seedsAt.node, ctx, seedsAt.field);
  const study: StudyConfig = { name: studyName, dataset: datasetPath, model: spec.name, space, fixed, trials, seeds, sampler, samplerSeed };
  if (samplerOptions !== undefined) study.samplerOptions = samplerOptions;
  const prunerAt = pick('pruner');
  if (prunerAt.node !== undefined && !(isScalar(prunerAt.node) && prunerAt.node.value === 'none')) {
    try {
      study.pruner = compilePruner(ctx.js(prunerAt.node), prunerAt.field);
    } catch (err) {
      throw placeInMapping(err, ctx, prunerAt.node, prunerAt.field);
    }
  }
  return study;
}

/**
 * An option checker's error (which names `field.key` but knows no lines),
 * placed at the line of that key inside `node`.
 */
function placeInMapping(err: unknown, ctx: YamlContext, node: Node | undefined, field: string): Error {
  if (!(err instanceof ConfigError)) return err as Error;
  const errField = err.place.field ?? field;
  const key = errField.split('.').at(-1)!;
  const at = isMap(node) ? ((node.get(key, true) as Node | undefined) ?? node) : node;
  return ctx.error(err.message.replace(/^field '[^']*': /, ''), at, errField);
}

/** Without a `space`, the built-in space named after the model. */
function defaultSpace(spec: ModelSpec, ctx: YamlContext, node: Node, field: string): SearchSpace {
  const builtin = BUILTIN_SPACES[spec.name];
  if (builtin === undefined) throw ctx.error(`no search space given and model '${spec.name}' has no built-in one`, node, `${field}.space`);
  return builtin;
}

function parseFixed(node: Node | undefined, ctx: YamlContext, field: string): Record<string, ParamValue> {
  if (node === undefined) return {};
  if (!isMap(node)) throw ctx.error(expected('a mapping of model settings', ctx.js(node)), node, field);
  const out: Record<string, ParamValue> = {};
  for (const pair of node.items) {
    const key = String(isScalar(pair.key) ? pair.key.value : '');
    const value = isScalar(pair.value) ? pair.value.value : undefined;
    if (!(typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)))) {
      throw ctx.error(expected('a number, text or true/false', ctx.js(pair.value as Node)), (pair.value as Node) ?? pair.key, `${field}.${key}`);
    }
    out[key] = value;
  }
  return out;
}

/** Every tuned or fixed name must be a setting of the model, in range, and tuned or fixed, not both. */
function checkAgainstModel(
  spec: ModelSpec,
  space: SearchSpace,
  fixed: Record<string, ParamValue>,
  ctx: YamlContext,
  spaceAt: { node: Node | undefined; field: string },
  fixedAt: { node: Node | undefined; field: string },
): void {
  const known = Object.keys(spec.settings).sort().join(', ');
  const nodeOf = (at: { node: Node | undefined }, key: string): Node | undefined =>
    isMap(at.node) ? ((at.node.get(key, true) as Node | undefined) ?? at.node) : at.node;
  for (const [name, def] of space.params) {
    const setting = spec.settings[name];
    if (setting === undefined) {
      throw ctx.error(`model '${spec.name}' has no setting '${name}' (known: ${known})`, nodeOf(spaceAt, name), `${spaceAt.field}.${name}`);
    }
    if (name in fixed) {
      throw ctx.error(`duplicated parameter '${name}': it is both tuned (${spaceAt.field}) and fixed (${fixedAt.field})`, nodeOf(fixedAt, name), `${fixedAt.field}.${name}`);
    }
    if (def.type === 'float' && setting.type === 'int') {
      // Checking the ends is not enough: every value between them would be a non-integer.
      throw ctx.error(`'${name}' is an integer setting of model '${spec.name}': tune it with type: int, not float`, nodeOf(spaceAt, name), `${spaceAt.field}.${name}.type`);
    }
    if (def.type !== 'categorical' && setting.type !== 'float' && setting.type !== 'int') {
      throw ctx.error(`'${name}' is a ${setting.type === 'choice' ? 'choice' : 'true/false'} setting of model '${spec.name}': tune it with type: categorical`, nodeOf(spaceAt, name), `${spaceAt.field}.${name}.type`);
    }
    for (const value of extremes(def)) {
      try {
        checkSetting(name, setting, value);
      } catch (err) {
        throw ctx.error(`search space value out of the model's range: ${(err as Error).message.replace(/^field '[^']*': /, '')}`, nodeOf(spaceAt, name), `${spaceAt.field}.${name}`);
      }
    }
  }
  for (const [name, value] of Object.entries(fixed)) {
    const setting = spec.settings[name];
    if (setting === undefined) {
      throw ctx.error(`model '${spec.name}' has no setting '${name}' (known: ${known})`, nodeOf(fixedAt, name), `${fixedAt.field}.${name}`);
    }
    try {
      checkSetting(name, setting, value);
    } catch (err) {
      throw ctx.error((err as Error).message.replace(/^field '[^']*': /, ''), nodeOf(fixedAt, name), `${fixedAt.field}.${name}`);
    }
  }
}

/** The values a check against the model must pass: both ends of a range, every choice. */
function extremes(def: ParamDef): ParamValue[] {
  if (def.type === 'categorical') return [...def.choices];
  return [def.low, def.high];
}

function parseSeeds(node: Node, ctx: YamlContext, field: string): number[] {
  if (!isSeq(node) || node.items.length === 0) throw ctx.error(expected('a non-empty list of integer seeds', ctx.js(node)), node, field);
  const seeds: number[] = [];
  node.items.forEach((item, i) => {
    const seed = intValue(item as Node, ctx, `${field}[${i}]`, 0, MAX_SEED);
    if (seeds.includes(seed)) throw ctx.error(`duplicated seed ${seed}`, item as Node, `${field}[${i}]`);
    seeds.push(seed);
  });
  return seeds;
}

function rejectUnknownKeys(map: YAMLMap, allowed: readonly string[], ctx: YamlContext, field: string): void {
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : describe(ctx.js(pair.key as Node));
    if (!allowed.includes(key)) {
      throw ctx.error(`unknown key '${key}' (allowed: ${allowed.join(', ')})`, pair.key as Node, field === '' ? key : `${field}.${key}`);
    }
  }
}

function optionalText(map: YAMLMap, key: string, ctx: YamlContext, field: string): string | undefined {
  const node = map.get(key, true) as Node | undefined;
  return node === undefined ? undefined : scalarText(node, ctx, field);
}

function scalarText(node: Node, ctx: YamlContext, field: string): string {
  const value = isScalar(node) ? node.value : undefined;
  if (typeof value !== 'string' && typeof value !== 'number') throw ctx.error(expected('a text', ctx.js(node)), node, field);
  return String(value);
}

function optionalInt(map: YAMLMap, key: string, ctx: YamlContext, field: string, min: number): number | undefined {
  const node = map.get(key, true) as Node | undefined;
  return node === undefined ? undefined : intValue(node, ctx, field, min);
}

function intValue(node: Node, ctx: YamlContext, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = isScalar(node) ? node.value : ctx.js(node);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw ctx.error(expected(max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`, value), node, field);
  }
  return value;
}
