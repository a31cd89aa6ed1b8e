/**
 * In-memory shapes of a dataset. A dataset is a directory holding bulk
 * expression with bulk labels (the source domain) and single-cell expression
 * with cell labels (the target domain; its labels are used only to evaluate).
 * See docs/datasets.md for the on-disk layouts the readers accept.
 */

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
