/**
 * In-memory shapes of a dataset. A dataset is a directory holding bulk
 * expression with bulk labels (the source domain) and single-cell expression
 * with cell labels (the target domain; its labels are used only to evaluate).
 * See docs/datasets.md for the on-disk layouts the readers accept.
 */

/** The largest finite float32: expression values are kept as float32, so larger ones are rejected on reading. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** How a domain's values were produced, which decides its preprocessing. */
export type ValueScale =
  /** Raw non-negative counts (scRNA-seq UMI/reads): library-size normalised, then log1p. */
  | 'counts'
  /** Already log-transformed or otherwise normalised (TPM log, z-scores): used as is. */
  | 'normalized';

/** One domain: rows are samples (cell lines or cells), columns are genes. */
export interface DomainMatrix {
  /** Sample ids, one per row, unique. */
  ids: string[];
  /** Gene names, one per column, unique. */
  genes: string[];
  /** Row-major rows x genes, all finite. */
  values: Float32Array;
  /** 1 = sensitive, 0 = resistant, one per row. */
  labels: Uint8Array;
  scale: ValueScale;
  /** The file the values came from, for messages. */
  file: string;
  /**
   * Natural log of IC50 per row, NaN where unknown (`NA`): present when a
   * SCAD bulk file has a `logIC50` column. Not used for training yet; kept
   * for regression targets and for checking how labels were binarised.
   */
  logIC50?: Float64Array;
}

export interface Dataset {
  /** Short name (the manifest's `name`, else the directory name). */
  name: string;
  /** Absolute path of the dataset directory. */
  dir: string;
  drug?: string;
  bulk: DomainMatrix;
  cells: DomainMatrix;
  /**
   * How the dataset asks to be prepared (the manifest's `preprocess:` block),
   * so a dataset directory fully describes its preparation. `prepare` starts
   * from these and lets its own options override them.
   */
  preprocess?: PrepareOptions;
}

/** Options of `prepare` (trainer/data/preprocess.ts); every one is optional. */
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
  /**
   * Keep only this many highly variable genes, ranked by the Seurat-flavour
   * normalised dispersion of the cells (scanpy's `flavor='seurat'`), among
   * the shared genes after normalisation. Off (undefined) by default.
   */
  hvg?: number;
}

/** What a preprocessing step did, so every run can say what it removed. */
export interface PreprocessStep {
  step: string;
  detail: string;
}

/** A domain ready for a model: shared genes only, scaled to [0, 1] per gene. */
export interface PreparedDomain {
  /** Row-major rows x genes, in [0, 1]. */
  x: Float32Array;
  y: Uint8Array;
  rows: number;
  /**
   * The scale the domain's values had on input, which decided its
   * normalisation. `prepare` always sets it; optional only so that
   * hand-built inputs (tests) need not.
   */
  scale?: ValueScale;
  /**
   * The MinMax map applied per gene: x = (v - min) / range, clamped to 1, so
   * v = x * range + min gives back the value before scaling (log-normalised
   * for counts, the input value for normalized). range is 0 for a constant
   * gene (its x is 0, which maps back to min). For steps that need the
   * unscaled values, such as marker genes. `prepare` always sets it.
   */
  minmax?: { min: Float32Array; range: Float32Array };
  /**
   * Sample id of each row. Detection filters can drop rows, so this is how
   * per-cell predictions map back to the input. `prepare` always sets it.
   */
  ids?: string[];
}

export interface PreparedData {
  genes: string[];
  bulk: PreparedDomain;
  cells: PreparedDomain;
  report: PreprocessStep[];
}
