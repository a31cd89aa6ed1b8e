import { readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { DataError } from '../../core/errors.js';
import { readExpression, type ExpressionFile } from './expression-reader.js';
import { readH5ad } from './h5ad-reader.js';
import { readLabels } from './labels-reader.js';
import { describeIoError } from './line-reader.js';
import { MANIFEST_FILE, parseManifest, type DomainSpec, type Manifest } from './manifest.js';
import type { Dataset, DomainMatrix } from './types.js';
import { requireBothClasses, validateDataset } from './validate.js';

/** The SCAD pair layout: a directory with these two files and no manifest. */
const SCAD_SOURCE = 'source.tsv';
const SCAD_TARGET = 'target.tsv';

/**
 * Loads a dataset directory (docs/datasets.md): with `dataset.yaml` as the
 * manifest says, else `source.tsv` + `target.tsv` in the SCAD layout. The
 * result is validated (both classes present, genes shared by the domains), so
 * a dataset that cannot train fails here, with the file and line to fix.
 */
export async function loadDataset(dir: string): Promise<Dataset> {
  const root = resolve(dir);
  await requireDirectory(root);
  const manifestPath = join(root, MANIFEST_FILE);
  const where = (await exists(manifestPath)) ? manifestPath : undefined;
  const manifest = where !== undefined ? await readManifest(where) : await scadPairManifest(root);
  const bulk = await loadDomain(root, manifest.bulk, where, 'bulk');
  const cells = await loadDomain(root, manifest.cells, where, 'cells');
  const dataset: Dataset = { name: manifest.name ?? basename(root), dir: root, bulk, cells };
  if (manifest.drug !== undefined) dataset.drug = manifest.drug;
  if (manifest.preprocess !== undefined) dataset.preprocess = manifest.preprocess;
  validateDataset(dataset);
  return dataset;
}

async function readManifest(path: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DataError(`expected a readable file, but got ${describeIoError(err)}`, { file: path }, { cause: err });
  }
  return parseManifest(text, path);
}

async function scadPairManifest(root: string): Promise<Manifest> {
  const hasSource = await exists(join(root, SCAD_SOURCE));
  const hasTarget = await exists(join(root, SCAD_TARGET));
  if (!hasSource || !hasTarget) {
    const found = hasSource ? `only ${SCAD_SOURCE}` : hasTarget ? `only ${SCAD_TARGET}` : 'neither';
    throw new DataError(`expected ${MANIFEST_FILE}, or ${SCAD_SOURCE} and ${SCAD_TARGET}, in the dataset directory, but got ${found}`, {
      file: root,
    });
  }
  const scad = (expression: string): DomainSpec => ({ expression, format: 'scad', scale: 'normalized', lines: { expression: 0 } });
  return { bulk: scad(SCAD_SOURCE), cells: scad(SCAD_TARGET) };
}

async function loadDomain(root: string, spec: DomainSpec, manifestPath: string | undefined, key: 'bulk' | 'cells'): Promise<DomainMatrix> {
  const file = isAbsolute(spec.expression) ? spec.expression : join(root, spec.expression);
  await requireFile(file, manifestPath, spec.lines.expression, `${key}.expression`, spec.expression);
  const what = key === 'bulk' ? 'bulk labels' : 'cell labels';
  const matrix = spec.format === 'h5ad' ? await readH5adDomain(file, spec, what) : await readExpression(file, { format: spec.format, scale: spec.scale });
  let labels = matrix.labels;
  if (spec.labels !== undefined) {
    const labelFile = isAbsolute(spec.labels) ? spec.labels : join(root, spec.labels);
    await requireFile(labelFile, manifestPath, spec.lines.labels ?? 0, `${key}.labels`, spec.labels);
    labels = await readLabels(labelFile, matrix.ids, file);
    requireBothClasses(labels, what, { file: labelFile });
  }
  if (labels === undefined) throw new Error(`unreachable: ${key} has neither a response column nor a labels file`);
  const domain: DomainMatrix = { ids: matrix.ids, genes: matrix.genes, values: matrix.values, labels, scale: spec.scale, file };
  if (matrix.logIC50 !== undefined) domain.logIC50 = matrix.logIC50;
  return domain;
}

/** An AnnData domain; with a labels column, both classes are checked here, where the column can be named. */
async function readH5adDomain(file: string, spec: DomainSpec, what: string): Promise<ExpressionFile> {
  const domain = await readH5ad(file, {
    scale: spec.scale,
    ...(spec.labelsColumn === undefined ? {} : { labelsColumn: spec.labelsColumn }),
    ...(spec.sensitiveValue === undefined ? {} : { sensitiveValue: spec.sensitiveValue }),
    ...(spec.geneColumn === undefined ? {} : { geneColumn: spec.geneColumn }),
  });
  if (domain.labels !== undefined) requireBothClasses(domain.labels, what, { file, field: `obs/${spec.labelsColumn}` });
  return domain;
}

/** A file named by the manifest must exist: say so at the manifest line that names it, with the path tried. */
async function requireFile(path: string, manifestPath: string | undefined, line: number, field: string, written: string): Promise<void> {
  let problem: string | undefined;
  try {
    const info = await stat(path);
    if (!info.isFile()) problem = 'a directory';
  } catch (err) {
    problem = describeIoError(err);
  }
  if (problem === undefined) return;
  if (manifestPath === undefined) throw new DataError(`expected a readable file, but got ${problem}`, { file: path });
  throw new DataError(`expected a readable file, but got ${problem}: ${JSON.stringify(written)} (${path})`, { file: manifestPath, line, field });
}

async function requireDirectory(path: string): Promise<void> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) return;
    throw new DataError('expected a dataset directory, but got a file', { file: path });
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`expected a dataset directory, but got ${describeIoError(err)}`, { file: path }, { cause: err });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
