import { Rng } from '../../core/rng.js';
import type { ClassCounts } from './paper-shapes.js';

/**
 * The generative model behind synthetic datasets: docs/synthetic-data.md has
 * the equations, with the symbols used here (beta, S, w, v, a, t, pi, o,
 * gamma, e, L). Pure computation, no I/O: `synthetic.ts` writes the files.
 *
 * The model builds in a real domain shift: tissue genes track the response
 * in the bulk lines but not in the cells, bulk lines are mixtures of cell
 * states while cells are single states, and cells are sparse counts. A
 * classifier fit on the bulk leans on the tissue genes and loses accuracy on
 * the cells, while the true program activity (truth.tsv) still ranks them well.
 */

/** Constants of the model, named as in docs/synthetic-data.md. */
export const SYNTHETIC_PARAMS = {
  /** K: latent cell states. */
  states: 6,
  /** Fraction of shared genes in the response program P (at least minProgramGenes). */
  programFraction: 0.05,
  minProgramGenes: 8,
  /** Size of the tissue gene set T relative to P. */
  tissueRatio: 2,
  /** Extra genes present in one domain only, as a fraction of the shared genes. */
  privateFraction: 0.05,
  /** Probability that a state changes a gene, and the sd of the change (log scale). */
  stateDensity: 0.2,
  stateSd: 1,
  /** |w_g| and |v_g| are uniform in [low, high], with a random sign. */
  loadingLow: 0.5,
  loadingHigh: 1,
  /** Program and tissue genes are better expressed than average (added to beta). */
  markerBoost: 1,
  /** Dirichlet concentration of the state proportions of a bulk line. */
  dirichletAlpha: 0.5,
  /** rho: correlation of the tissue factor with the program activity, bulk only. */
  tissueCorrelation: 0.9,
  /** sigma_b: per-value noise of bulk expression (log scale). */
  bulkNoiseSd: 0.5,
  /** Platform: offset o_g ~ N(mean, sd), gain gamma_g = exp(N(0, sd)). */
  platformOffsetMean: 3,
  platformOffsetSd: 1,
  platformGainSd: 0.25,
  /** lambda: share of a cell's program activity explained by its state. */
  stateActivityWeight: 0.5,
  /** sigma_y: noise added to the activity before thresholding it into labels. */
  labelNoiseSd: 0.5,
  /** Capture efficiency e_g = exp(N(0, sd)) of the single-cell platform. */
  captureSd: 0.5,
  /** Median library size: libraryPerGene x genes, at least minLibrary; log-normal with sd librarySd. */
  libraryPerGene: 2,
  minLibrary: 1000,
  librarySd: 0.4,
  /** phi: negative binomial dispersion (variance mu + phi mu^2). */
  nbDispersion: 0.3,
  /** Dropout probability dropoutMax * exp(-mu / dropoutScale). */
  dropoutMax: 0.3,
  dropoutScale: 3,
  /** logIC50 = icMean - a + N(0, icNoiseSd). */
  icMean: 2,
  icNoiseSd: 0.5,
} as const;

export type SyntheticParams = { -readonly [K in keyof typeof SYNTHETIC_PARAMS]: number };

/**
 * Named variants of the generative model, each a set of changes to
 * SYNTHETIC_PARAMS (docs/synthetic-data.md says what each models and why):
 * - `tissue-confound` (the default): the parameters as they are.
 * - `subclonal`: a cell's response is set almost entirely by its subclone
 *   (state), and the cells measure the response and tissue genes poorly
 *   (less expressed, shallower libraries), so that the cells' own structure
 *   carries information a model of the bulk alone cannot use.
 */
export const SYNTHETIC_SCENARIOS = {
  'tissue-confound': {},
  subclonal: { stateActivityWeight: 0.97, markerBoost: -2, minLibrary: 300, libraryPerGene: 1 },
} as const satisfies Record<string, Partial<SyntheticParams>>;
export type SyntheticScenario = keyof typeof SYNTHETIC_SCENARIOS;
export const SCENARIO_NAMES = Object.keys(SYNTHETIC_SCENARIOS) as SyntheticScenario[];

export type GeneRole = 'program' | 'tissue' | 'other' | 'bulk-only' | 'cell-only';

export interface GeneInfo {
  gene: string;
  role: GeneRole;
  /** w_g for program genes, v_g for tissue genes, else 0. */
  loading: number;
}

export interface SyntheticSpec {
  /** Genes shared by both domains. */
  genes: number;
  bulk: ClassCounts;
  cells: ClassCounts;
  seed: number;
  /** Default `tissue-confound`: SYNTHETIC_PARAMS unchanged. */
  scenario?: SyntheticScenario;
}

export interface SyntheticDomain {
  ids: string[];
  genes: string[];
  labels: Uint8Array;
  /** True program activity a of each row. */
  activity: Float64Array;
}

export interface SyntheticModel {
  bulk: SyntheticDomain & { logIC50: Float64Array };
  cells: SyntheticDomain;
  geneInfo: GeneInfo[];
  /** Bulk rows in order: log-scale values over `bulk.genes`. The yielded array is reused. */
  bulkRows(): Generator<Float64Array>;
  /** Cell rows in order: integer counts over `cells.genes`. The yielded array is reused. */
  cellRows(): Generator<Float64Array>;
}

export function createSyntheticModel(spec: SyntheticSpec): SyntheticModel {
  const P: SyntheticParams = { ...SYNTHETIC_PARAMS, ...SYNTHETIC_SCENARIOS[spec.scenario ?? 'tissue-confound'] };
  const root = new Rng(spec.seed);
  const genesRng = root.derive('genes');
  const nShared = spec.genes;
  const nPrivate = Math.max(1, Math.round(P.privateFraction * nShared));
  const nProgram = Math.min(Math.max(P.minProgramGenes, Math.round(P.programFraction * nShared)), Math.floor(nShared / (2 * (1 + P.tissueRatio))));
  const nTissue = P.tissueRatio * nProgram;
  // Gene universe: shared genes, then bulk-only, then cell-only.
  const universe = nShared + 2 * nPrivate;
  const width = String(universe).length;
  const names = [
    ...Array.from({ length: nShared }, (_, g) => `G${pad(g + 1, width)}`),
    ...Array.from({ length: nPrivate }, (_, g) => `B${pad(g + 1, width)}`),
    ...Array.from({ length: nPrivate }, (_, g) => `C${pad(g + 1, width)}`),
  ];
  const roles: GeneRole[] = names.map((_, g) => (g < nShared ? 'other' : g < nShared + nPrivate ? 'bulk-only' : 'cell-only'));
  const sharedOrder = genesRng.shuffle(Array.from({ length: nShared }, (_, g) => g));
  for (const g of sharedOrder.slice(0, nProgram)) roles[g] = 'program';
  for (const g of sharedOrder.slice(nProgram, nProgram + nTissue)) roles[g] = 'tissue';

  const beta = new Float64Array(universe);
  const w = new Float64Array(universe);
  const v = new Float64Array(universe);
  const offset = new Float64Array(universe);
  const gain = new Float64Array(universe);
  const logCapture = new Float64Array(universe);
  const expState = new Float64Array(P.states * universe); // exp(S_kg), row-major K x universe
  const logState = new Float64Array(P.states * universe);
  const loading = (): number => (genesRng.float() < 0.5 ? -1 : 1) * genesRng.uniform(P.loadingLow, P.loadingHigh);
  for (let g = 0; g < universe; g++) {
    const role = roles[g];
    beta[g] = genesRng.normal() + (role === 'program' || role === 'tissue' ? P.markerBoost : 0);
    if (role === 'program') w[g] = loading();
    if (role === 'tissue') v[g] = loading();
    offset[g] = genesRng.normal(P.platformOffsetMean, P.platformOffsetSd);
    gain[g] = Math.exp(genesRng.normal(0, P.platformGainSd));
    logCapture[g] = genesRng.normal(0, P.captureSd);
    for (let k = 0; k < P.states; k++) {
      const s = genesRng.float() < P.stateDensity ? genesRng.normal(0, P.stateSd) : 0;
      logState[k * universe + g] = s;
      expState[k * universe + g] = Math.exp(s);
    }
  }
  const bulkColumns = Int32Array.from({ length: nShared + nPrivate }, (_, g) => g);
  // Cells list their genes in another order than the bulk, as real pairs do: `prepare` must match them by name.
  const cellColumns = genesRng.shuffle(
    Int32Array.from([...Array.from({ length: nShared }, (_, g) => g), ...Array.from({ length: nPrivate }, (_, g) => nShared + nPrivate + g)]),
  );

  // Bulk lines: activity a_i, tissue factor t_i tied to it, state proportions pi_i.
  const bulkRng = root.derive('bulk-latent');
  const nBulk = spec.bulk.resistant + spec.bulk.sensitive;
  const bulkActivity = Float64Array.from({ length: nBulk }, () => bulkRng.normal());
  const rho = P.tissueCorrelation;
  const bulkTissue = bulkActivity.map((a) => rho * a + Math.sqrt(1 - rho * rho) * bulkRng.normal());
  const proportions = new Float64Array(nBulk * P.states);
  for (let i = 0; i < nBulk; i++) {
    let sum = 0;
    for (let k = 0; k < P.states; k++) sum += proportions[i * P.states + k] = bulkRng.gamma(P.dirichletAlpha);
    for (let k = 0; k < P.states; k++) proportions[i * P.states + k] = (proportions[i * P.states + k] as number) / sum;
  }
  const bulkLabels = thresholdLabels(bulkActivity, spec.bulk.sensitive, P.labelNoiseSd, bulkRng);
  const logIC50 = bulkActivity.map((a) => P.icMean - a + bulkRng.normal(0, P.icNoiseSd));

  // Cells: a state k_j, activity a_j partly set by the state, tissue factor t_j independent of a_j.
  const cellRng = root.derive('cells-latent');
  const nCells = spec.cells.resistant + spec.cells.sensitive;
  const stateWeights = Array.from({ length: P.states }, () => cellRng.gamma(2));
  const stateActivity = Array.from({ length: P.states }, () => cellRng.normal());
  const cellState = Uint8Array.from({ length: nCells }, () => pickWeighted(stateWeights, cellRng));
  const lambda = P.stateActivityWeight;
  const cellActivity = Float64Array.from(cellState, (k) => lambda * (stateActivity[k] as number) + Math.sqrt(1 - lambda * lambda) * cellRng.normal());
  const cellTissue = Float64Array.from({ length: nCells }, () => cellRng.normal());
  const cellLabels = thresholdLabels(cellActivity, spec.cells.sensitive, P.labelNoiseSd, cellRng);
  const medianLibrary = Math.max(P.minLibrary, P.libraryPerGene * (nShared + nPrivate));
  const librarySize = Float64Array.from({ length: nCells }, () => medianLibrary * Math.exp(cellRng.normal(0, P.librarySd)));

  function* bulkRows(): Generator<Float64Array> {
    const rng = root.derive('bulk-values');
    const out = new Float64Array(bulkColumns.length);
    for (let i = 0; i < nBulk; i++) {
      const a = bulkActivity[i] as number;
      const t = bulkTissue[i] as number;
      for (let col = 0; col < bulkColumns.length; col++) {
        const g = bulkColumns[col] as number;
        let mixture = 0;
        for (let k = 0; k < P.states; k++) mixture += (proportions[i * P.states + k] as number) * (expState[k * universe + g] as number);
        const x = (beta[g] as number) + Math.log(mixture) + (w[g] as number) * a + (v[g] as number) * t + rng.normal(0, P.bulkNoiseSd);
        out[col] = (offset[g] as number) + (gain[g] as number) * x;
      }
      yield out;
    }
  }

  function* cellRows(): Generator<Float64Array> {
    const rng = root.derive('cells-values');
    const out = new Float64Array(cellColumns.length);
    const logMean = new Float64Array(cellColumns.length);
    const shape = 1 / P.nbDispersion;
    for (let j = 0; j < nCells; j++) {
      const k = cellState[j] as number;
      const a = cellActivity[j] as number;
      const t = cellTissue[j] as number;
      let max = Number.NEGATIVE_INFINITY;
      for (let col = 0; col < cellColumns.length; col++) {
        const g = cellColumns[col] as number;
        const l = (beta[g] as number) + (logState[k * universe + g] as number) + (w[g] as number) * a + (v[g] as number) * t + (logCapture[g] as number);
        logMean[col] = l;
        if (l > max) max = l;
      }
      let total = 0;
      for (let col = 0; col < logMean.length; col++) total += Math.exp((logMean[col] as number) - max);
      const library = librarySize[j] as number;
      for (let col = 0; col < logMean.length; col++) {
        const mu = (library * Math.exp((logMean[col] as number) - max)) / total;
        // Negative binomial as a gamma-Poisson mixture, then technical dropout, likelier for low means.
        const count = rng.poisson((mu * rng.gamma(shape)) / shape);
        out[col] = rng.float() < P.dropoutMax * Math.exp(-mu / P.dropoutScale) ? 0 : count;
      }
      yield out;
    }
  }

  const idWidth = (n: number): number => String(n).length;
  return {
    bulk: {
      ids: Array.from({ length: nBulk }, (_, i) => `line${pad(i + 1, idWidth(nBulk))}`),
      genes: Array.from(bulkColumns, (g) => names[g] as string),
      labels: bulkLabels,
      activity: bulkActivity,
      logIC50,
    },
    cells: {
      ids: Array.from({ length: nCells }, (_, j) => `cell${pad(j + 1, idWidth(nCells))}`),
      genes: Array.from(cellColumns, (g) => names[g] as string),
      labels: cellLabels,
      activity: cellActivity,
    },
    geneInfo: names.map((gene, g) => ({ gene, role: roles[g] as GeneRole, loading: (w[g] as number) + (v[g] as number) })),
    bulkRows,
    cellRows,
  };
}

/**
 * Labels 1 (sensitive) for the `sensitive` rows with the highest activity plus
 * noise N(0, sigma_y^2): the quantile threshold that reproduces the paper's
 * class counts exactly.
 */
function thresholdLabels(activity: Float64Array, sensitive: number, noiseSd: number, rng: Rng): Uint8Array {
  const score = activity.map((a) => a + rng.normal(0, noiseSd));
  const order = Array.from(score.keys()).sort((i, j) => (score[j] as number) - (score[i] as number) || i - j);
  const labels = new Uint8Array(activity.length);
  for (const i of order.slice(0, sensitive)) labels[i] = 1;
  return labels;
}

function pickWeighted(weights: readonly number[], rng: Rng): number {
  const total = weights.reduce((s, x) => s + x, 0);
  let u = rng.float() * total;
  for (let k = 0; k < weights.length; k++) {
    u -= weights[k] as number;
    if (u < 0) return k;
  }
  return weights.length - 1;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
