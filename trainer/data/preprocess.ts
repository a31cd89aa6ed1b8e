import { DataError } from '../../core/errors.js';
import { median } from '../../core/stats.js';
import { HVG_BINS, seuratDispersion, topDispersion } from './hvg.js';
import type { Dataset, DomainMatrix, PreparedData, PreparedDomain, PrepareOptions, PreprocessStep } from './types.js';
import { noSharedGenes, requireBothClasses, sharedGenes } from './validate.js';

export type { PrepareOptions } from './types.js';

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

/**
 * From a loaded dataset to model inputs (SCIENCE.md, "Preprocessing"):
 * 1. detection filters (paper: drop cells with fewer than 200 detected genes,
 *    then genes detected in fewer than 3 cells), per domain;
 * 2. keep the genes present in both domains, in the bulk's order;
 * 3. counts domains: library-size normalisation to `targetSum`, then log1p;
 * 4. optionally, keep the `hvg` most variable of those genes, by the
 *    normalised dispersion of the cells (hvg.ts);
 * 5. MinMax per gene within each domain to [0, 1] (the decoder ends in a
 *    sigmoid); a constant gene becomes 0. The map is kept (`minmax`) so
 *    later steps can get the log-normalised values back.
 * Options come from the dataset's manifest (`dataset.preprocess`), then from
 * `opts`, which override them key by key. Every step says what it did in
 * `report`; a step that would leave nothing (no rows, no genes, one class) is
 * an error, never a silent empty result.
 */
export function prepare(dataset: Dataset, callerOpts: PrepareOptions = {}): PreparedData {
  const report: PreprocessStep[] = [];
  const opts = effectiveOptions(dataset.preprocess, callerOpts, report);
  const bulkKept = detectionFilter(dataset.bulk, 'bulk', opts, report);
  const cellsKept = detectionFilter(dataset.cells, 'cells', opts, report);
  // Before the heavy work: a filter that leaves one class makes training pointless.
  const keptLabels = (domain: DomainMatrix, kept: Kept): Uint8Array => Uint8Array.from(kept.rows, (r) => domain.labels[r] as number);
  requireBothClasses(keptLabels(dataset.bulk, bulkKept), 'bulk labels left by the detection filter', { file: dataset.bulk.file });
  requireBothClasses(keptLabels(dataset.cells, cellsKept), 'cell labels left by the detection filter', { file: dataset.cells.file });

  let genes = sharedGenes(
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
  let builtBulk = buildDomain(dataset.bulk, 'bulk', bulkKept, genes, targetSum, report);
  let builtCells = buildDomain(dataset.cells, 'cells', cellsKept, genes, targetSum, report);

  if (opts.hvg !== undefined) {
    const columns = highlyVariable(builtCells, dataset.cells, genes, opts.hvg, report);
    if (columns !== undefined) {
      genes = Array.from(columns, (c) => genes[c] as string);
      builtBulk = selectColumns(builtBulk, columns);
      builtCells = selectColumns(builtCells, columns);
    }
  }

  const bulk: PreparedDomain = { ...builtBulk.domain, scale: dataset.bulk.scale };
  const cells: PreparedDomain = { ...builtCells.domain, scale: dataset.cells.scale };
  const bulkScaled = minMaxColumns(bulk.x, bulk.rows, builtBulk.min, builtBulk.max);
  const cellScaled = minMaxColumns(cells.x, cells.rows, builtCells.min, builtCells.max);
  bulk.minmax = bulkScaled.map;
  cells.minmax = cellScaled.map;
  report.push({
    step: 'minmax',
    detail: `scaled each gene to [0, 1] within each domain; constant genes set to 0: ${fmt(bulkScaled.constant)} in bulk, ${fmt(cellScaled.constant)} in cells`,
  });

  report.push({
    step: 'labels',
    detail: `bulk: ${classes(bulk.y)}; cells: ${classes(cells.y)}`,
  });
  return { genes, bulk, cells, report };
}

/** The manifest's options, overridden key by key by the caller's; both checked, and reported when the manifest set any. */
function effectiveOptions(fromManifest: PrepareOptions | undefined, fromCaller: PrepareOptions, report: PreprocessStep[]): PrepareOptions {
  const base = fromManifest ?? {};
  const opts: PrepareOptions = { ...base };
  const overridden: string[] = [];
  for (const key of ['minGenes', 'minCells', 'targetSum', 'hvg'] as const) {
    const value = fromCaller[key];
    if (value === undefined) continue;
    if (base[key] !== undefined && base[key] !== value) overridden.push(key);
    opts[key] = value;
  }
  if (base.filter !== undefined || fromCaller.filter !== undefined) {
    opts.filter = { ...base.filter };
    for (const key of ['bulk', 'cells'] as const) {
      const value = fromCaller.filter?.[key];
      if (value === undefined) continue;
      if (base.filter?.[key] !== undefined && base.filter[key] !== value) overridden.push(`filter.${key}`);
      opts.filter[key] = value;
    }
  }
  checkOption(opts.minGenes, 'minGenes', 0);
  checkOption(opts.minCells, 'minCells', 0);
  checkOption(opts.hvg, 'hvg', 1);
  if (opts.targetSum !== undefined && !(Number.isFinite(opts.targetSum) && opts.targetSum > 0)) {
    throw new DataError(`expected the preprocessing option targetSum to be a number above 0, but got ${opts.targetSum}`);
  }
  const written = Object.entries(base).map(([key, value]) => `${MANIFEST_NAMES[key] ?? key} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  if (written.length > 0) {
    const over = overridden.length > 0 ? `; overridden by the caller: ${overridden.join(', ')}` : '';
    report.push({ step: 'options', detail: `from the dataset manifest: ${written.join(', ')}${over}` });
  }
  return opts;
}

/** Option names as the manifest's `preprocess:` block spells them, for the report. */
const MANIFEST_NAMES: Record<string, string> = { minGenes: 'min_genes', minCells: 'min_cells', targetSum: 'target_sum', hvg: 'hvg', filter: 'filter' };

function checkOption(value: number | undefined, name: string, min: number): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= min)) {
    throw new DataError(`expected the preprocessing option ${name} to be a whole number of at least ${min}, but got ${value}`);
  }
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

/** One domain after normalisation, before MinMax: its matrix and the column bounds gathered on the way. */
interface Built {
  domain: PreparedDomain & { ids: string[] };
  min: Float64Array;
  max: Float64Array;
}

/** The kept rows and shared genes of one domain, normalised if it holds counts (not yet MinMax-scaled). */
function buildDomain(
  domain: DomainMatrix,
  key: DomainKey,
  kept: Kept,
  genes: readonly string[],
  targetSum: number,
  report: PreprocessStep[],
): Built {
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

/**
 * Step 4: the `hvg` most variable genes of the cells, as column indexes into
 * `genes` (in order), or undefined when that is all of them. The dispersion
 * method undoes a log1p, so the cell values must be log-normalised: counts
 * always are by now; a normalized domain with negative values (z-scores) is not.
 */
function highlyVariable(cells: Built, domain: DomainMatrix, genes: readonly string[], hvg: number, report: PreprocessStep[]): Int32Array | undefined {
  const width = genes.length;
  if (hvg >= width) {
    report.push({ step: 'hvg', detail: `kept all ${fmt(width)} shared genes (asked for ${fmt(hvg)})` });
    return undefined;
  }
  for (let c = 0; c < width; c++) {
    if ((cells.min[c] as number) < 0) {
      throw new DataError(
        `expected log-normalised, non-negative cell values for highly-variable-gene selection (Seurat dispersion undoes a log1p), but got ${Number((cells.min[c] as number).toPrecision(7))} for gene ${JSON.stringify(genes[c])}: ` +
          'use scale: counts for raw counts, or remove hvg from the preprocessing options',
        { file: domain.file },
      );
    }
  }
  const { normalized } = seuratDispersion(cells.domain.x, cells.domain.rows, width);
  const columns = topDispersion(normalized, hvg);
  report.push({
    step: 'hvg',
    detail: `kept ${fmt(columns.length)} of ${fmt(width)} shared genes by normalised dispersion in the cells (Seurat flavour, ${HVG_BINS} mean bins)`,
  });
  return columns;
}

/** A copy of `built` with only `columns` (ascending), and their bounds. */
function selectColumns(built: Built, columns: Int32Array): Built {
  const { x, rows } = built.domain;
  const width = x.length / Math.max(1, rows);
  const out = new Float32Array(rows * columns.length);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    const outBase = r * columns.length;
    for (let i = 0; i < columns.length; i++) out[outBase + i] = x[base + (columns[i] as number)] as number;
  }
  return {
    domain: { ...built.domain, x: out },
    min: Float64Array.from(columns, (c) => built.min[c] as number),
    max: Float64Array.from(columns, (c) => built.max[c] as number),
  };
}

/**
 * MinMax-scales each column of the row-major matrix in place, given its
 * bounds; returns how many columns were constant (set to 0) and the map
 * applied, x = (v - min) / range, for undoing it.
 */
function minMaxColumns(
  x: Float32Array,
  rows: number,
  min: Float64Array,
  max: Float64Array,
): { constant: number; map: { min: Float32Array; range: Float32Array } } {
  const width = min.length;
  const scale = new Float64Array(width);
  const range = new Float32Array(width);
  let constant = 0;
  for (let c = 0; c < width; c++) {
    const span = (max[c] as number) - (min[c] as number);
    if (span > 0) {
      scale[c] = 1 / span;
      range[c] = span;
    } else constant++;
  }
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    for (let c = 0; c < width; c++) {
      // Clamp: (v - min) * (1 / range) can land a hair above 1 in floating point.
      x[base + c] = Math.min(1, ((x[base + c] as number) - (min[c] as number)) * (scale[c] as number));
    }
  }
  return { constant, map: { min: Float32Array.from(min), range } };
}

function classes(y: Uint8Array): string {
  let positive = 0;
  for (const v of y) positive += v;
  return `${fmt(positive)} sensitive / ${fmt(y.length - positive)} resistant`;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
