import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, parseDocument, type Document, type Node, type YAMLMap } from 'yaml';
import { ConfigError, describe, expected } from '../../core/errors.js';
import type { ParamValue } from '../../core/params.js';
import type { ParamDef, SearchSpace } from './search-space.js';
import { BUILTIN_SPACES } from './builtin-spaces.js';

/**
 * Reads a search space from a YAML node of the sweep file:
 *
 *   space:
 *     l1: {type: float, low: 0.1, high: 2, log: true}
 *     depth: {type: int, low: 2, high: 6}
 *     sampling: {type: categorical, choices: [none, weighted, smote]}
 *
 * or the name of a built-in space (`space: sctl-paper`). Errors name the file,
 * the line and the dotted field, e.g. `sweep.yaml:7, field 'space.l1.low'`.
 */
export function parseSpace(node: Node | null | undefined, ctx: YamlContext, field = 'space'): SearchSpace {
  if (node === null || node === undefined) throw ctx.error(expected('a search space (a mapping or a built-in name)', undefined), node, field);
  if (isScalar(node) && typeof node.value === 'string') {
    const builtin = BUILTIN_SPACES[node.value];
    if (builtin === undefined) {
      throw ctx.error(expected(`a built-in space (${Object.keys(BUILTIN_SPACES).join(', ')}) or a mapping`, node.value), node, field);
    }
    return builtin;
  }
  if (!isMap(node)) throw ctx.error(expected('a mapping of parameter names to definitions', ctx.js(node)), node, field);
  if (node.items.length === 0) throw ctx.error('the search space has no parameters', node, field);
  const params: Array<[string, ParamDef]> = [];
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (key === undefined || key === '') throw ctx.error('a parameter name must be a non-empty text', pair.key as Node, field);
    params.push([key, parseParam(pair.value as Node | null, ctx, `${field}.${key}`)]);
  }
  return { params };
}

const KEYS: Record<ParamDef['type'], readonly string[]> = {
  float: ['type', 'low', 'high', 'log', 'step'],
  int: ['type', 'low', 'high', 'log', 'step'],
  categorical: ['type', 'choices'],
};

function parseParam(node: Node | null, ctx: YamlContext, field: string): ParamDef {
  if (!isMap(node)) throw ctx.error(expected('a mapping with a `type` (float, int or categorical)', ctx.js(node)), node, field);
  const type = scalarAt(node, 'type');
  if (type !== 'float' && type !== 'int' && type !== 'categorical') {
    throw ctx.error(expected('type float, int or categorical', type), node.get('type', true) ?? node, `${field}.type`);
  }
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!KEYS[type].includes(key)) {
      throw ctx.error(`unknown key '${key}' for a ${type} parameter (allowed: ${KEYS[type].join(', ')})`, pair.key as Node, `${field}.${key}`);
    }
  }
  if (type === 'categorical') {
    const choicesNode = node.get('choices', true);
    if (!isSeq(choicesNode)) throw ctx.error(expected('a list of choices', ctx.js(choicesNode)), choicesNode ?? node, `${field}.choices`);
    const choices: ParamValue[] = [];
    choicesNode.items.forEach((item, i) => {
      const value = isScalar(item) ? item.value : undefined;
      if (!(typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)))) {
        throw ctx.error(expected('a number, text or true/false', ctx.js(item as Node)), item as Node, `${field}.choices[${i}]`);
      }
      if (choices.includes(value)) throw ctx.error(`duplicated choice ${describe(value)}`, item as Node, `${field}.choices[${i}]`);
      choices.push(value);
    });
    if (choices.length === 0) throw ctx.error('empty choices: give at least one value', choicesNode, `${field}.choices`);
    return { type, choices };
  }
  const low = numberAt(node, 'low', ctx, field);
  const high = numberAt(node, 'high', ctx, field);
  const logNode = node.get('log', true);
  const log = logNode === undefined ? false : scalarValue(logNode);
  if (typeof log !== 'boolean') throw ctx.error(expected('true or false', ctx.js(logNode as Node)), logNode as Node, `${field}.log`);
  const stepNode = node.get('step', true) as Node | undefined;
  const step = stepNode === undefined ? undefined : numberAt(node, 'step', ctx, field);
  const at = (key: string): Node => (node.get(key, true) as Node | undefined) ?? node;

  if (type === 'int') {
    for (const [key, v] of [['low', low], ['high', high], ['step', step]] as const) {
      if (v !== undefined && !Number.isInteger(v)) throw ctx.error(expected('an integer', v), at(key), `${field}.${key}`);
    }
  }
  if (!(low < high)) throw ctx.error(`empty range: expected low < high, but got low=${low}, high=${high}`, at('high'), `${field}.high`);
  if (log && low <= 0) throw ctx.error(expected('low > 0 for a log-scaled parameter', low), at('low'), `${field}.low`);
  if (step !== undefined) {
    if (!(step > 0)) throw ctx.error(expected('step > 0', step), at('step'), `${field}.step`);
    if (log) throw ctx.error('step and log cannot be combined', at('step'), `${field}.step`);
    const k = (high - low) / step;
    if (Math.abs(k - Math.round(k)) > 1e-9 * Math.max(1, k)) {
      throw ctx.error(`step ${step} does not divide the range [${low}, ${high}]`, at('step'), `${field}.step`);
    }
  }
  if (type === 'int') return { type, low, high, log, step: step ?? 1 };
  return step === undefined ? { type, low, high, log } : { type, low, high, log, step };
}

function scalarAt(map: YAMLMap, key: string): unknown {
  const n = map.get(key, true);
  return n === undefined ? undefined : scalarValue(n as Node);
}

function scalarValue(node: Node | unknown): unknown {
  return isScalar(node) ? node.value : node;
}

function numberAt(map: YAMLMap, key: string, ctx: YamlContext, field: string): number {
  const node = map.get(key, true) as Node | undefined;
  const value = node === undefined ? undefined : scalarValue(node);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw ctx.error(expected('a finite number', node === undefined ? undefined : ctx.js(node)), node ?? map, `${field}.${key}`);
  }
  return value;
}

/** Turns YAML node positions into file:line for error messages. */
export class YamlContext {
  private readonly lineStarts: number[] = [0];

  constructor(
    readonly file: string,
    source: string,
    readonly doc?: Document,
  ) {
    for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  lineOf(node: Node | null | undefined): number | undefined {
    const offset = node?.range?.[0];
    if (offset === undefined) return undefined;
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  error(detail: string, node: Node | null | undefined, field: string): ConfigError {
    const line = this.lineOf(node);
    return new ConfigError(detail, line === undefined ? { file: this.file, field } : { file: this.file, line, field });
  }

  js(node: Node | null | undefined): unknown {
    if (node === null || node === undefined) return undefined;
    return (node as { toJSON?: () => unknown }).toJSON?.() ?? node;
  }
}

/**
 * A search space named on the command line: a built-in space's name, or a
 * YAML file holding the same mapping a sweep file's `space:` holds (either
 * at the top, or under a `space:` key).
 */
export function loadSpace(nameOrFile: string): SearchSpace {
  const builtin = BUILTIN_SPACES[nameOrFile];
  if (builtin !== undefined) return builtin;
  let source: string;
  try {
    source = readFileSync(nameOrFile, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `expected a built-in space (${Object.keys(BUILTIN_SPACES).join(', ')}) or a readable YAML file: ${(err as Error).message}`,
      { file: nameOrFile },
    );
  }
  const doc = parseDocument(source, { uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const line = first.linePos?.[0]?.line;
    throw new ConfigError(`malformed YAML: ${(first.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`, line === undefined ? { file: nameOrFile } : { file: nameOrFile, line });
  }
  const ctx = new YamlContext(nameOrFile, source, doc);
  const root = doc.contents as Node | null;
  const inner = isMap(root) && root.items.length === 1 && isScalar(root.items[0]!.key) && root.items[0]!.key.value === 'space' ? (root.items[0]!.value as Node) : root;
  return parseSpace(inner, ctx, 'space');
}
