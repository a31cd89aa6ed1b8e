import { loadDataset } from './dataset.js';
import { prepare } from './preprocess.js';
import type { PreparedData } from './types.js';

/** A dataset directory, loaded and prepared as its manifest says: what a model trains on. */
export async function loadPrepared(dir: string): Promise<PreparedData> {
  return prepare(await loadDataset(dir));
}
