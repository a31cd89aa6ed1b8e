import { DataError } from '../../core/errors.js';
import { median } from '../../core/stats.js';
import type { Dataset, DomainMatrix, PreparedData, PreparedDomain, PreprocessStep } from './types.js';
import { noSharedGenes, requireBothClasses, sharedGenes } from './validate.js';

/**
 * From a loaded dataset to model inputs (SCIENCE.md, "Preprocessing"):
 * 1. detection filters (paper: drop cells with fewer than 200 detected genes,
 *    then genes detected in fewer than 3 cells), per domain;
 * 2. keep the genes present in both domains, in the bulk's order;
 * 3. counts domains: library-size normalisation to `targetSum`, then log1p;
 * 4. MinMax per gene within each domain to [0, 1] (the decoder ends in a
 *    sigmoid); a constant gene becomes 0.
 * Every step says what it did in `report`; a step that would leave nothing
 * (no rows, no genes, one class) is an error, never a silent empty result.
 */

export interface PrepareOptions {
  /**
   * Whether to run the detection filters on each domain. Default: on for a
   * `counts` domain, off for a `normalized` one (a z-scored value below 0 is
   * not "undetected"). A value counts as detected when it is > 0.
   */
  filter?: { bulk?: boolean; cells?: boolean };
  /**
   * A row (cell or cell line) needs at least this many detected genes.
   * Default: the paper's 200, but at most 10% of the domain's genes: the 200
   * assumes whole-transcriptome matrices, and on a 200-gene panel it would
   * drop every cell.
   */
  minGenes?: number;
  /** A gene must be detected in at least this many rows of the domain. Default 3 (the paper's). */
  minCells?: number;
  /** Library size after normalisation of a counts domain. Default 10,000. */
  targetSum?: number;
}

const PAPER_MIN_GENES = 200;
const MIN_GENES_FRACTION = 0.1;
const PAPER_MIN_CELLS = 3;
const TARGET_SUM = 10_000;
/** Small integer counts whose log1p is cached per row. */
const LOG1P_CACHE = 64;

type DomainKey = 'bulk' | 'cells';

/** What survives the detection filters of one domain, as indexes into the loaded matrix. */
interface Kept {
  rows: number[];
  /** Column indexes of the kept genes, by gene name. */
  columns: Map<string, number>;
}

export function prepare(dataset: Dataset, opts: PrepareOptions = {}): PreparedData {
  const report: PreprocessStep[] = [];
  const bulkKept = detectionFilter(dataset.bulk, 'bulk', opts, report);
  const cellsKept = detectionFilter(dataset.cells, 'cells', opts, report);
  // Before the heavy work: a filter that leaves one class makes training pointless.
  const keptLabels = (domain: DomainMatrix, kept: Kept): Uint8Array => Uint8Array.from(kept.rows, (r) => domain.labels[r] as number);
  requireBothClasses(keptLabels(dataset.bulk, bulkKept), 'bulk labels left by the detection filter', { file: dataset.bulk.file });
  requireBothClasses(keptLabels(dataset.cells, cellsKept), 'cell labels left by the detection filter', { file: dataset.cells.file });

  const genes = sharedGenes(
    dataset.bulk.genes.filter((g) => bulkKept.columns.has(g)),
    dataset.cells.genes.filter((g) => cellsKept.columns.has(g)),
  );
  if (genes.length === 0) {
    if (bulkKept.columns.size === dataset.bulk.genes.length && cellsKept.columns.size === dataset.cells.genes.length) {
      throw noSharedGenes(dataset.bulk, dataset.cells);
    }
    throw new DataError('expected at least one shared gene to pass the detection filters, but got none: lower minCells or turn the filter off', {
      file: dataset.cells.file,
    });
  }
  report.push({
    step: 'shared genes',
    detail: `kept ${fmt(genes.length)} of ${fmt(dataset.bulk.genes.length)} bulk genes and ${fmt(genes.length)} of ${fmt(dataset.cells.genes.length)} cell genes`,
  });

  const targetSum = opts.targetSum ?? TARGET_SUM;
  const builtBulk = buildDomain(dataset.bulk, 'bulk', bulkKept, genes, targetSum, report);
  const builtCells = buildDomain(dataset.cells, 'cells', cellsKept, genes, targetSum, report);
  const bulk = builtBulk.domain;
  const cells = builtCells.domain;

  const bulkConstant = minMaxColumns(bulk.x, bulk.rows, builtBulk.min, builtBulk.max);
  const cellConstant = minMaxColumns(cells.x, cells.rows, builtCells.min, builtCells.max);
  report.push({
    step: 'minmax',
    detail: `scaled each gene to [0, 1] within each domain; constant genes set to 0: ${fmt(bulkConstant)} in bulk, ${fmt(cellConstant)} in cells`,
  });

  report.push({
    step: 'labels',
    detail: `bulk: ${classes(bulk.y)}; cells: ${classes(cells.y)}`,
  });
  return { genes, bulk, cells, report };
}

function detectionFilter(domain: DomainMatrix, key: DomainKey, opts: PrepareOptions, report: PreprocessStep[]): Kept {
  const nRows = domain.ids.length;
  const nGenes = domain.genes.length;
  const on = opts.filter?.[key] ?? domain.scale === 'counts';
  const allRows = Array.from({ length: nRows }, (_, r) => r);
  if (!on) {
    report.push({ step: 'detection filter', detail: `${key}: off (scale ${domain.scale})` });
    return { rows: allRows, columns: new Map(domain.genes.map((g, c) => [g, c])) };
  }
  const minGenes = opts.minGenes ?? Math.min(PAPER_MIN_GENES, Math.ceil(MIN_GENES_FRACTION * nGenes));
  const minCells = opts.minCells ?? PAPER_MIN_CELLS;
  const values = domain.values;
  const rowWord = key === 'bulk' ? 'cell lines' : 'cells';

  // One pass counts detections per row and per gene over all rows; the rows
  // that fail are subtracted afterwards (usually few), so the gene filter
  // sees only the kept rows, as in scanpy's filter_cells then filter_genes.
  // Branch-free counting: about half the values of sparse counts are 0.
  const detectedIn = new Uint32Array(nGenes);
  const rows: number[] = [];
  const dropped: number[] = [];
  for (let r = 0; r < nRows; r++) {
    let detected = 0;
    const base = r * nGenes;
    for (let c = 0; c < nGenes; c++) {
      const hit = (values[base + c] as number) > 0 ? 1 : 0;
      detected += hit;
      detectedIn[c] = (detectedIn[c] as number) + hit;
    }
    (detected >= minGenes ? rows : dropped).push(r);
  }
  if (rows.length === 0) {
    throw new DataError(
      `expected the detection filter to keep some ${rowWord}, but got none of ${fmt(nRows)} with at least ${fmt(minGenes)} detected genes: lower minGenes or turn the filter off`,
      { file: domain.file },
    );
  }
  for (const r of dropped) {
    const base = r * nGenes;
    for (let c = 0; c < nGenes; c++) if ((values[base + c] as number) > 0) detectedIn[c] = (detectedIn[c] as number) - 1;
  }
  const columns = new Map<string, number>();
  domain.genes.forEach((g, c) => {
    if ((detectedIn[c] as number) >= minCells) columns.set(g, c);
  });
  if (columns.size === 0) {
    throw new DataError(
      `expected the detection filter to keep some genes, but got none of ${fmt(nGenes)} detected in at least ${fmt(minCells)} ${rowWord}: lower minCells or turn the filter off`,
      { file: domain.file },
    );
  }
  report.push({
    step: 'detection filter',
    detail:
      `${key}: removed ${fmt(nRows - rows.length)} of ${fmt(nRows)} ${rowWord} with fewer than ${fmt(minGenes)} detected genes, ` +
      `then ${fmt(nGenes - columns.size)} of ${fmt(nGenes)} genes detected in fewer than ${fmt(minCells)} ${rowWord}`,
  });
  return { rows, columns };
}

/** The kept rows and shared genes of one domain, normalised if it holds counts (not yet MinMax-scaled). */
function buildDomain(
  domain: DomainMatrix,
  key: DomainKey,
  kept: Kept,
  genes: readonly string[],
  targetSum: number,
  report: PreprocessStep[],
): { domain: PreparedDomain & { ids: string[] }; min: Float64Array; max: Float64Array } {
  const nGenes = domain.genes.length;
  const width = genes.length;
  const rows = kept.rows.length;
  const source = domain.values;
  const x = new Float32Array(rows * width);
  const y = new Uint8Array(rows);
  const ids: string[] = new Array<string>(rows);
  const columns = Int32Array.from(genes, (g) => kept.columns.get(g) as number);
  const counts = domain.scale === 'counts';
  // Library sizes over all genes that passed the filter (scanpy's normalize_total), not only the shared ones.
  const allColumns = kept.columns.size === nGenes;
  const keptColumns = Int32Array.from(kept.columns.values());
  const librarySizes = new Float64Array(counts ? rows : 0);
  let emptyRows = 0;

  // Plain indexed loops: this runs over every value (~100M for the largest paper dataset).
  const log1pCache = new Float64Array(LOG1P_CACHE);
  // Column bounds for the MinMax step, gathered here to save a pass over the matrix.
  const min = new Float64Array(width).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(width).fill(Number.NEGATIVE_INFINITY);
  for (let out = 0; out < rows; out++) {
    const r = kept.rows[out] as number;
    const base = r * nGenes;
    const outBase = out * width;
    ids[out] = domain.ids[r] as string;
    y[out] = domain.labels[r] as number;
    if (!counts) {
      for (let s = 0; s < width; s++) {
        const value = source[base + (columns[s] as number)] as number;
        x[outBase + s] = value;
        if (value < (min[s] as number)) min[s] = value;
        if (value > (max[s] as number)) max[s] = value;
      }
      continue;
    }
    let library = 0;
    if (allColumns) for (let c = 0; c < nGenes; c++) library += source[base + c] as number;
    else for (let i = 0; i < keptColumns.length; i++) library += source[base + (keptColumns[i] as number)] as number;
    librarySizes[out] = library;
    if (library === 0) emptyRows++;
    const factor = library > 0 ? targetSum / library : 0;
    // Counts are mostly small integers, so log1p(v * factor) takes few distinct
    // values per row: caching them cuts this loop's time by more than half.
    log1pCache.fill(-1);
    for (let s = 0; s < width; s++) {
      const value = source[base + (columns[s] as number)] as number;
      let logged: number;
      if (value < LOG1P_CACHE && (value | 0) === value) {
        logged = log1pCache[value] as number;
        if (logged < 0) logged = log1pCache[value] = Math.log1p(value * factor);
      } else logged = Math.log1p(value * factor);
      // MinMax bounds of what is stored (float32), so the scaled values land exactly in [0, 1].
      const stored = Math.fround(logged);
      x[outBase + s] = stored;
      if (stored < (min[s] as number)) min[s] = stored;
      if (stored > (max[s] as number)) max[s] = stored;
    }
  }

  if (counts) {
    const empty = emptyRows > 0 ? `; ${fmt(emptyRows)} rows with no counts left at 0` : '';
    report.push({
      step: 'normalize',
      detail: `${key}: library size scaled to ${fmt(targetSum)}, then log1p (median library size ${fmt(Math.round(median(Array.from(librarySizes))))})${empty}`,
    });
  } else {
    report.push({ step: 'normalize', detail: `${key}: values used as they are (scale normalized)` });
  }
  return { domain: { x, y, rows, ids }, min, max };
}

/** MinMax-scales each column of the row-major matrix in place, given its bounds; returns how many columns were constant (set to 0). */
function minMaxColumns(x: Float32Array, rows: number, min: Float64Array, max: Float64Array): number {
  const width = min.length;
  const scale = new Float64Array(width);
  let constant = 0;
  for (let c = 0; c < width; c++) {
    const range = (max[c] as number) - (min[c] as number);
    if (range > 0) scale[c] = 1 / range;
    else constant++;
  }
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    for (let c = 0; c < width; c++) {
      // Clamp: (v - min) * (1 / range) can land a hair above 1 in floating point.
      x[base + c] = Math.min(1, ((x[base + c] as number) - (min[c] as number)) * (scale[c] as number));
    }
  }
  return constant;
}

function classes(y: Uint8Array): string {
  let positive = 0;
  for (const v of y) positive += v;
  return `${fmt(positive)} sensitive / ${fmt(y.length - positive)} resistant`;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
