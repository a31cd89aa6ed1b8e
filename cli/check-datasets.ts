import { CellsweepError, DataError } from '../core/errors.js';
import type { SweepConfig } from '../coordinator/config/sweep-config.js';
import { loadPrepared } from '../trainer/data/index.js';

/**
 * Loads and preprocesses every dataset of a sweep once, in this process,
 * before any trainer starts: a missing file, a ragged row or a label outside
 * {0, 1} stops the sweep here with the file and line, not six runs later.
 */
export async function checkDatasets(config: SweepConfig, log: (line: string) => void): Promise<void> {
  const seen = new Map<string, string>();
  for (const study of config.studies) {
    if (seen.has(study.dataset)) continue;
    seen.set(study.dataset, study.name);
    try {
      const data = await loadPrepared(study.dataset);
      log(`dataset ${study.name}: ${data.bulk.rows} bulk samples, ${data.cells.rows} cells, ${data.genes.length} shared genes`);
    } catch (err) {
      if (err instanceof CellsweepError) throw new DataError(`study '${study.name}': ${err.message}`, {}, { cause: err });
      throw err;
    }
  }
}
