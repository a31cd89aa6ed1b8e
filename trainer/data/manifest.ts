import { isMap, isScalar, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { DataError, describe, expected } from '../../core/errors.js';
import type { ExpressionFormat } from './expression-reader.js';
import type { ValueScale } from './types.js';

/**
 * The dataset manifest, `dataset.yaml` (docs/datasets.md):
 *
 *   name: data1              # optional, default: the directory name
 *   drug: Cisplatin          # optional
 *   bulk:  { expression: bulk.tsv, format: scad }
 *   cells: { expression: cells.tsv, format: table, labels: cell_labels.tsv, scale: counts }
 *
 * Every mistake is reported with the manifest's line and the dotted key.
 */

export interface DomainSpec {
  /** As written in the manifest, relative to the dataset directory (or absolute). */
  expression: string;
  format: ExpressionFormat;
  labels?: string;
  scale: ValueScale;
  /** Manifest lines of the keys, to point at them when a file is missing. */
  lines: { expression: number; labels?: number };
}

export interface Manifest {
  name?: string;
  drug?: string;
  bulk: DomainSpec;
  cells: DomainSpec;
}

export const MANIFEST_FILE = 'dataset.yaml';

const TOP_KEYS = ['name', 'drug', 'bulk', 'cells'] as const;
const DOMAIN_KEYS = ['expression', 'format', 'labels', 'scale'] as const;
const FORMATS: readonly ExpressionFormat[] = ['scad', 'table'];
const SCALES: readonly ValueScale[] = ['normalized', 'counts'];

type Place = { file: string; line: number; field: string };

export function parseManifest(text: string, file: string): Manifest {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const line = lineCounter.linePos(syntax.pos[0]).line;
    throw new DataError(`expected valid YAML, but got ${syntax.message.split('\n')[0]}`, { file, line });
  }
  const lineOf = (node: Node | null | undefined): number => (node?.range ? lineCounter.linePos(node.range[0]).line : 1);
  const root = doc.contents;
  if (!isMap(root)) {
    throw new DataError(expected('a mapping with keys bulk and cells', root === null ? undefined : (root.toJSON() as unknown)), {
      file,
      line: lineOf(root),
    });
  }
  const top = readMap(root, TOP_KEYS, '', file, lineOf);
  const name = optionalString(top, 'name');
  const drug = optionalString(top, 'drug');
  const domain = (key: 'bulk' | 'cells'): DomainSpec => {
    const entry = top.get(key);
    if (entry === undefined) {
      throw new DataError(expected('a mapping with at least an expression file', undefined), { file, line: lineOf(root), field: key });
    }
    if (!isMap(entry.value)) {
      throw new DataError(expected('a mapping with at least an expression file', entry.value?.toJSON()), entry.place);
    }
    return readDomain(readMap(entry.value, DOMAIN_KEYS, `${key}.`, file, lineOf), entry.place);
  };
  const manifest: Manifest = { bulk: domain('bulk'), cells: domain('cells') };
  if (name !== undefined) manifest.name = name;
  if (drug !== undefined) manifest.drug = drug;
  return manifest;
}

interface Entry {
  value: Node | null;
  place: Place;
}

/** The keys of `map` with their value nodes and places; an unknown key is an error. */
function readMap(
  map: YAMLMap,
  allowed: readonly string[],
  prefix: string,
  file: string,
  lineOf: (node: Node | null | undefined) => number,
): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? pair.key.value : pair.key;
    const line = lineOf(pair.key as Node);
    if (typeof key !== 'string' || !allowed.includes(key)) {
      throw new DataError(expected(`one of the keys ${allowed.join(', ')}`, typeof key === 'string' ? key : String(key)), {
        file,
        line,
        field: `${prefix}${String(key)}`,
      });
    }
    entries.set(key, { value: (pair.value as Node | null) ?? null, place: { file, line, field: `${prefix}${key}` } });
  }
  return entries;
}

function readDomain(keys: Map<string, Entry>, domainPlace: Place): DomainSpec {
  const expression = keys.get('expression');
  if (expression === undefined) throw new DataError(expected('an expression file name', undefined), { ...domainPlace, field: `${domainPlace.field}.expression` });
  const labels = keys.get('labels');
  const spec: DomainSpec = {
    expression: stringValue(expression),
    format: choice(keys.get('format'), FORMATS) ?? (labels === undefined ? 'scad' : 'table'),
    scale: choice(keys.get('scale'), SCALES) ?? 'normalized',
    lines: { expression: expression.place.line },
  };
  if (spec.format === 'table' && labels === undefined) {
    throw new DataError(expected('a labels file for format: table', undefined), { ...domainPlace, field: `${domainPlace.field}.labels` });
  }
  if (labels !== undefined) {
    if (spec.format === 'scad') {
      throw new DataError(expected('no labels file for format: scad (its labels are the response column)', stringValue(labels)), labels.place);
    }
    spec.labels = stringValue(labels);
    spec.lines.labels = labels.place.line;
  }
  return spec;
}

function optionalString(keys: Map<string, Entry>, key: string): string | undefined {
  const entry = keys.get(key);
  return entry === undefined ? undefined : stringValue(entry);
}

function stringValue(entry: Entry): string {
  const value = isScalar(entry.value) ? entry.value.value : entry.value?.toJSON();
  if (typeof value !== 'string' || value.trim() === '') throw new DataError(expected('a non-empty string', value ?? undefined), entry.place);
  return value;
}

function choice<T extends string>(entry: Entry | undefined, options: readonly T[]): T | undefined {
  if (entry === undefined) return undefined;
  const value = isScalar(entry.value) ? entry.value.value : entry.value?.toJSON();
  if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) {
    throw new DataError(expected(options.map((o) => describe(o)).join(' or '), value ?? undefined), entry.place);
  }
  return value as T;
}
