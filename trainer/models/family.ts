import type { ModelSpec } from '../../core/model-specs.js';
import type { ParamValue } from '../../core/params.js';
import type { PreparedData } from '../data/types.js';

/** What a family reports after every epoch. */
export interface EpochProgress {
  epoch: number;
  epochs: number;
  /** Mean of each loss term over the epoch's batches. */
  losses: Record<string, number>;
  /** Cell AUC after this epoch, only when asked for (costs a forward pass). */
  auc?: number;
}

export interface TrainInput {
  data: PreparedData;
  /** Every setting of the family's spec, defaults filled in and validated (core/model-specs resolveSettings). */
  settings: Readonly<Record<string, ParamValue>>;
  seed: number;
  /** Aborted when the run is cancelled; the family stops at its next epoch boundary. */
  signal: AbortSignal;
  onEpoch(progress: EpochProgress): void;
  evaluateEachEpoch: boolean;
  /** Also return the interpretability outputs the family has (SCTL: the full OT plan). */
  interpret?: boolean;
}

/** A transport plan between all bulk samples (rows) and all cells (columns). */
export interface TransportPlan {
  rows: number;
  cols: number;
  /** Row-major rows x cols. */
  values: Float32Array;
}

export interface TrainOutput {
  /** Predicted probability of "sensitive" for every cell, in the order of data.cells. */
  cellScores: Float32Array;
  epochs: number;
  finalLosses: Record<string, number>;
  /** Only when `interpret` was asked and the family transports (SCTL). */
  plan?: TransportPlan;
}

/**
 * A model family: the spec (settings and defaults, shared with the
 * coordinator) plus the training code. Families are chosen by name from
 * trainer/models/registry.ts.
 *
 * Contract: deterministic for a given (data, settings, seed, backend); frees
 * every tensor it creates; throws TrainingError (core/errors) with the epoch
 * and loss term when a loss goes non-finite; throws InterruptedError when
 * `signal` is aborted.
 */
export interface ModelFamily {
  readonly spec: ModelSpec;
  train(input: TrainInput): Promise<TrainOutput>;
}
