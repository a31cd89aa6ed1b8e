import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { syncDirectory } from '../../core/atomic-file.js';
import { ConfigError, DataError, expected } from '../../core/errors.js';
import { isShapeName, PAPER_SHAPES, type ClassCounts, type ShapeName } from './paper-shapes.js';
import { createSyntheticModel, SCENARIO_NAMES, type SyntheticModel, type SyntheticScenario } from './synthetic-model.js';

export { PAPER_SHAPES, SHAPE_NAMES, type PaperShape, type ShapeName } from './paper-shapes.js';

/**
 * Writes a synthetic dataset directory shaped like one of the paper's
 * datasets, with a known answer (docs/synthetic-data.md):
 *
 *   dataset.yaml      the manifest (bulk: scad, normalized; cells: table, counts)
 *   bulk.tsv          cell lines x genes, SCAD layout with response and logIC50
 *   cells.tsv         cells x genes, integer counts
 *   cell_labels.tsv   cell id, response
 *   truth.tsv         cell id, true program activity (never read by training)
 *   truth_genes.tsv   gene, role (program, tissue, other, bulk-only, cell-only), loading
 *
 * Deterministic: the same options give byte-identical files. Atomic: files
 * are written into a sibling temporary directory that is renamed into place,
 * so a reader never sees half a dataset.
 */

export interface SyntheticOptions {
  shape: ShapeName;
  /** Genes shared by the two domains (each domain also gets 5% genes of its own). Default 2,000. */
  genes?: number;
  seed: number;
  /** Multiplies both class counts of the cells (0.1 gives a tenth of the cells). Default 1. */
  cellScale?: number;
  /** Multiplies both class counts of the bulk lines. Default 1. */
  bulkScale?: number;
  /** A named variant of the generative model (SYNTHETIC_SCENARIOS); default `tissue-confound`. */
  scenario?: SyntheticScenario;
}

export interface SyntheticSummary {
  dir: string;
  bulk: ClassCounts & { genes: number };
  cells: ClassCounts & { genes: number };
  sharedGenes: number;
}

export const DEFAULT_SYNTHETIC_GENES = 2000;
const MIN_GENES = 20;
const MAX_GENES = 100_000;
/** The first line of every generated manifest: marks a directory this function may replace. */
const MARKER = '# cellsweep synthetic dataset';

export async function writeSyntheticDataset(dir: string, opts: SyntheticOptions): Promise<SyntheticSummary> {
  const shape = checkShape(opts.shape);
  const genes = checkInteger(opts.genes ?? DEFAULT_SYNTHETIC_GENES, 'genes', MIN_GENES, MAX_GENES);
  const seed = checkInteger(opts.seed, 'seed', -(2 ** 31), 2 ** 31 - 1);
  const bulk = scaleCounts(PAPER_SHAPES[shape].bulk, checkScale(opts.bulkScale, 'bulkScale'));
  const cells = scaleCounts(PAPER_SHAPES[shape].cells, checkScale(opts.cellScale, 'cellScale'));
  const scenario = checkScenario(opts.scenario);
  const model = createSyntheticModel({ genes, bulk, cells, seed, scenario });

  const target = resolve(dir);
  await mkdir(dirname(target), { recursive: true });
  await requireReplaceable(target);
  // The temporary name only has to be unique; it never appears in the output.
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.partial`);
  await mkdir(tmp);
  try {
    await writeText(join(tmp, 'dataset.yaml'), manifestText(shape, genes, seed, opts));
    await writeBulk(join(tmp, 'bulk.tsv'), model);
    await writeCells(join(tmp, 'cells.tsv'), model);
    await writeText(join(tmp, 'cell_labels.tsv'), column(model.cells.ids, 'response', Array.from(model.cells.labels, String)));
    await writeText(join(tmp, 'truth.tsv'), column(model.cells.ids, 'activity', Array.from(model.cells.activity, (a) => a.toPrecision(6))));
    await writeText(
      join(tmp, 'truth_genes.tsv'),
      'gene\trole\tloading\n' + model.geneInfo.map((g) => `${g.gene}\t${g.role}\t${compact(g.loading)}\n`).join(''),
    );
    await syncDirectory(tmp);
    await swapInto(tmp, target);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return {
    dir: target,
    bulk: { ...bulk, genes: model.bulk.genes.length },
    cells: { ...cells, genes: model.cells.genes.length },
    sharedGenes: genes,
  };
}

function manifestText(shape: ShapeName, genes: number, seed: number, opts: SyntheticOptions): string {
  return [
    MARKER,
    `# shape ${shape}, genes ${genes}, seed ${seed}, bulkScale ${opts.bulkScale ?? 1}, cellScale ${opts.cellScale ?? 1}` +
      (opts.scenario !== undefined && opts.scenario !== 'tissue-confound' ? `, scenario ${opts.scenario}` : ''),
    '# Written by trainer/data/synthetic.ts; the model is described in docs/synthetic-data.md.',
    '# truth.tsv and truth_genes.tsv hold the true answer: training never reads them.',
    `drug: ${PAPER_SHAPES[shape].drug}`,
    'bulk:',
    '  expression: bulk.tsv',
    '  format: scad',
    '  scale: normalized',
    'cells:',
    '  expression: cells.tsv',
    '  format: table',
    '  labels: cell_labels.tsv',
    '  scale: counts',
    '',
  ].join('\n');
}

async function writeBulk(path: string, model: SyntheticModel): Promise<void> {
  const { ids, labels, logIC50, genes } = model.bulk;
  const out = await ChunkedWriter.open(path);
  await out.write(`\tresponse\tlogIC50\t${genes.join('\t')}\n`);
  let i = 0;
  for (const row of model.bulkRows()) {
    const fields = new Array<string>(row.length + 3);
    fields[0] = ids[i] as string;
    fields[1] = String(labels[i]);
    fields[2] = compact(logIC50[i] as number);
    for (let g = 0; g < row.length; g++) fields[g + 3] = compact(row[g] as number);
    await out.write(fields.join('\t') + '\n');
    i++;
  }
  await out.close();
}

async function writeCells(path: string, model: SyntheticModel): Promise<void> {
  const { ids, genes } = model.cells;
  const out = await ChunkedWriter.open(path);
  await out.write(`\t${genes.join('\t')}\n`);
  let j = 0;
  for (const row of model.cellRows()) {
    let line = ids[j] as string;
    for (let g = 0; g < row.length; g++) line += row[g] === 0 ? '\t0' : `\t${row[g]}`;
    await out.write(line + '\n');
    j++;
  }
  await out.close();
}

const POW10 = Array.from({ length: 10 }, (_, k) => 10 ** k);

/**
 * 4 significant digits, shortest spelling: 3.142, -0.01234, 12.5, 0.
 * Rounding with a power of ten and `String` gives what `toPrecision(4)`
 * gives (but for the last digit of exact ties) at a third of the cost: this
 * runs once per value of a matrix.
 */
export function compact(x: number): string {
  const ax = Math.abs(x);
  if (ax === 0) return '0';
  if (ax < 1e-3 || ax >= 1e4 || !Number.isFinite(x)) return String(Number(x.toPrecision(4)));
  const p = POW10[3 - Math.floor(Math.log10(ax))] as number;
  return String(Math.round(x * p) / p);
}

function column(ids: readonly string[], name: string, values: readonly string[]): string {
  return `cell\t${name}\n` + ids.map((id, i) => `${id}\t${values[i]}\n`).join('');
}

/** Buffers text and writes it in ~1 MiB pieces, then fsyncs: matrices are too big for one string. */
class ChunkedWriter {
  private pending: string[] = [];
  private size = 0;

  private constructor(private readonly handle: Awaited<ReturnType<typeof open>>) {}

  static async open(path: string): Promise<ChunkedWriter> {
    return new ChunkedWriter(await open(path, 'wx'));
  }

  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.size += text.length;
    if (this.size >= 1 << 20) await this.flush();
  }

  async close(): Promise<void> {
    try {
      await this.flush();
      await this.handle.sync();
    } finally {
      await this.handle.close();
    }
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.size = 0;
    await this.handle.write(text);
  }
}

async function writeText(path: string, text: string): Promise<void> {
  const out = await ChunkedWriter.open(path);
  await out.write(text);
  await out.close();
}

/**
 * Refuses to replace a directory this generator did not write: only a
 * missing or empty directory, or an earlier synthetic dataset, may be replaced.
 */
async function requireReplaceable(target: string): Promise<void> {
  let entries: string[];
  try {
    const info = await stat(target);
    if (!info.isDirectory()) throw new DataError('expected a missing or empty directory, or an earlier synthetic dataset, but got a file', { file: target });
    entries = await readdir(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (entries.length === 0) return;
  const manifest = await readFile(join(target, 'dataset.yaml'), 'utf8').catch(() => '');
  if (!manifest.startsWith(MARKER)) {
    throw new DataError(`expected a missing or empty directory, or an earlier synthetic dataset, but got a directory with ${entries.length} entries`, {
      file: target,
    });
  }
}

/** Renames `tmp` to `target`; an existing target is moved aside first and removed after. */
async function swapInto(tmp: string, target: string): Promise<void> {
  const entries = await readdir(target).catch(() => undefined);
  if (entries === undefined || entries.length === 0) {
    // rename(2) replaces an empty directory in one step.
    await rename(tmp, target);
  } else {
    const old = `${tmp}.old`;
    await rename(target, old);
    await rename(tmp, target);
    await rm(old, { recursive: true, force: true });
  }
  await syncDirectory(dirname(target));
}

function checkShape(shape: unknown): ShapeName {
  if (!isShapeName(shape)) throw new ConfigError(expected(`one of ${Object.keys(PAPER_SHAPES).join(', ')}`, shape), { field: 'shape' });
  return shape;
}

function checkInteger(value: unknown, field: string, low: number, high: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > high) {
    throw new ConfigError(expected(`an integer in [${low}, ${high}]`, value), { field });
  }
  return value;
}

function checkScale(value: unknown, field: string): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new ConfigError(expected('a positive number', value), { field });
  return value;
}

function checkScenario(value: unknown): SyntheticScenario {
  if (value === undefined) return 'tissue-confound';
  if (typeof value !== 'string' || !(SCENARIO_NAMES as string[]).includes(value)) {
    throw new ConfigError(expected(`one of ${SCENARIO_NAMES.join(', ')}`, value), { field: 'scenario' });
  }
  return value as SyntheticScenario;
}

/** Scales both classes, keeping at least 2 samples of each so both classes exist. */
function scaleCounts(counts: ClassCounts, scale: number): ClassCounts {
  return {
    resistant: Math.max(2, Math.round(counts.resistant * scale)),
    sensitive: Math.max(2, Math.round(counts.sensitive * scale)),
  };
}
