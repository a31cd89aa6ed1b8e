import { isMap, isScalar, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { DataError, describe, expected } from '../../core/errors.js';
import type { ExpressionFormat } from './expression-reader.js';
import type { PrepareOptions, ValueScale } from './types.js';

/**
 * The dataset manifest, `dataset.yaml` (docs/datasets.md):
 *
 *   name: data1              # optional, default: the directory name
 *   drug: Cisplatin          # optional
 *   bulk:  { expression: bulk.tsv, format: scad }
 *   cells: { expression: cells.h5ad, labels_column: response, scale: counts }
 *   preprocess: { hvg: 2000, min_genes: 200 }   # optional: how `prepare` treats this dataset
 *
 * Every mistake is reported with the manifest's line and the dotted key.
 */

/** How a domain's file is laid out: the text layouts of expression-reader.ts, or an AnnData file. */
export type DomainFormat = ExpressionFormat | 'h5ad';

export interface DomainSpec {
  /** As written in the manifest, relative to the dataset directory (or absolute). */
  expression: string;
  format: DomainFormat;
  labels?: string;
  scale: ValueScale;
  /** h5ad: the obs column holding the labels. */
  labelsColumn?: string;
  /** h5ad: the value of the labels column that means sensitive (1), as text. */
  sensitiveValue?: string;
  /** h5ad: the var column holding the gene names (default: the var index). */
  geneColumn?: string;
  /** Manifest lines of the keys, to point at them when a file is missing. */
  lines: { expression: number; labels?: number };
}

export interface Manifest {
  name?: string;
  drug?: string;
  bulk: DomainSpec;
  cells: DomainSpec;
  /** The `preprocess:` block, as options of `prepare`. */
  preprocess?: PrepareOptions;
}

export const MANIFEST_FILE = 'dataset.yaml';

const TOP_KEYS = ['name', 'drug', 'bulk', 'cells', 'preprocess'] as const;
const DOMAIN_KEYS = ['expression', 'format', 'labels', 'scale', 'labels_column', 'sensitive_value', 'gene_column'] as const;
/** Keys that only make sense for an AnnData file. */
const H5AD_KEYS = ['labels_column', 'sensitive_value', 'gene_column'] as const;
const PREPROCESS_KEYS = ['hvg', 'filter', 'min_genes', 'min_cells', 'target_sum'] as const;
const FILTER_KEYS = ['bulk', 'cells'] as const;
const FORMATS: readonly DomainFormat[] = ['scad', 'table', 'h5ad'];
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
  const preprocess = top.get('preprocess');
  if (preprocess !== undefined) {
    if (!isMap(preprocess.value)) throw new DataError(expected(`a mapping with keys ${PREPROCESS_KEYS.join(', ')}`, preprocess.value?.toJSON()), preprocess.place);
    manifest.preprocess = readPreprocess(readMap(preprocess.value, PREPROCESS_KEYS, 'preprocess.', file, lineOf), file, lineOf);
  }
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
  const written = stringValue(expression);
  const format = choice(keys.get('format'), FORMATS) ?? (written.toLowerCase().endsWith('.h5ad') ? 'h5ad' : labels === undefined ? 'scad' : 'table');
  const spec: DomainSpec = {
    expression: written,
    format,
    scale: choice(keys.get('scale'), SCALES) ?? 'normalized',
    lines: { expression: expression.place.line },
  };
  if (format !== 'h5ad') {
    for (const key of H5AD_KEYS) {
      const entry = keys.get(key);
      if (entry !== undefined) throw new DataError(expected(`no ${key} for format: ${format} (it is for format: h5ad)`, entry.value?.toJSON()), entry.place);
    }
  } else readH5adKeys(keys, spec, domainPlace);
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

/** An AnnData domain takes its labels from an obs column, or from a labels file (as format: table): one of the two. */
function readH5adKeys(keys: Map<string, Entry>, spec: DomainSpec, domainPlace: Place): void {
  const column = keys.get('labels_column');
  const labels = keys.get('labels');
  const sensitive = keys.get('sensitive_value');
  const gene = keys.get('gene_column');
  if (column === undefined && labels === undefined) {
    throw new DataError(expected('labels_column (the obs column holding the labels) for format: h5ad', undefined), {
      ...domainPlace,
      field: `${domainPlace.field}.labels_column`,
    });
  }
  if (column !== undefined && labels !== undefined) {
    throw new DataError(expected('either labels_column or a labels file, not both', stringValue(labels)), labels.place);
  }
  if (column !== undefined) spec.labelsColumn = stringValue(column);
  if (sensitive !== undefined) {
    if (column === undefined) throw new DataError(expected('sensitive_value only with labels_column', sensitive.value?.toJSON()), sensitive.place);
    spec.sensitiveValue = scalarText(sensitive);
  }
  if (gene !== undefined) spec.geneColumn = stringValue(gene);
}

/** The `preprocess:` block as PrepareOptions; each value is checked where it is written. */
function readPreprocess(keys: Map<string, Entry>, file: string, lineOf: (node: Node | null | undefined) => number): PrepareOptions {
  const opts: PrepareOptions = {};
  const hvg = keys.get('hvg');
  if (hvg !== undefined) opts.hvg = integerValue(hvg, 1, 'a whole number of genes to keep, at least 1 (omit hvg to keep all genes)');
  const minGenes = keys.get('min_genes');
  if (minGenes !== undefined) opts.minGenes = integerValue(minGenes, 0, 'a whole number of detected genes, 0 or more');
  const minCells = keys.get('min_cells');
  if (minCells !== undefined) opts.minCells = integerValue(minCells, 0, 'a whole number of rows, 0 or more');
  const targetSum = keys.get('target_sum');
  if (targetSum !== undefined) {
    const value = scalar(targetSum);
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new DataError(expected('a library size above 0', value), targetSum.place);
    opts.targetSum = value;
  }
  const filter = keys.get('filter');
  if (filter !== undefined) {
    const value = filter.value;
    if (isMap(value)) {
      const domains = readMap(value, FILTER_KEYS, 'preprocess.filter.', file, lineOf);
      opts.filter = {};
      for (const [key, entry] of domains) opts.filter[key as 'bulk' | 'cells'] = booleanValue(entry);
    } else {
      const on = booleanValue(filter, 'true, false, or a mapping with keys bulk and cells');
      opts.filter = { bulk: on, cells: on };
    }
  }
  return opts;
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

function scalar(entry: Entry): unknown {
  return isScalar(entry.value) ? entry.value.value : (entry.value?.toJSON() as unknown);
}

/** A string or number written as a scalar (`sensitive_value: 1` or `sensitive_value: sensitive`), as text. */
function scalarText(entry: Entry): string {
  const value = scalar(entry);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (typeof value === 'boolean') return value ? '1' : '0';
  throw new DataError(expected('a value of the labels column (text or a number)', value ?? undefined), entry.place);
}

function integerValue(entry: Entry, min: number, what: string): number {
  const value = scalar(entry);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw new DataError(expected(what, value ?? undefined), entry.place);
  return value;
}

function booleanValue(entry: Entry, what = 'true or false'): boolean {
  const value = scalar(entry);
  if (typeof value !== 'boolean') throw new DataError(expected(what, value ?? undefined), entry.place);
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
