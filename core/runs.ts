/**
 * A run is one (study, trial, seed) training and the unit of dispatch. Its id
 * is the key under which a result is counted once, however often it arrives.
 */
export interface RunKey {
  study: string;
  trial: number;
  seed: number;
}

export function runId(key: RunKey): string {
  return `${key.study}/${key.trial}/${key.seed}`;
}

/** The paper's six seeds (SCIENCE.md, tuning protocol). */
export const PAPER_SEEDS: readonly number[] = [42, 50, 60, 70, 80, 124];
