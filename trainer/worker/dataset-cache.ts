import type { PreparedData } from '../data/types.js';

/**
 * Prepared datasets by path. A trainer serves runs of a few studies over and
 * over; loading and preprocessing a 13k-gene dataset takes seconds, a run of
 * the same dataset should not pay that again. Small LRU: each entry can be
 * hundreds of MB.
 */
export class DatasetCache {
  private readonly entries = new Map<string, Promise<PreparedData>>();

  constructor(
    private readonly load: (path: string) => Promise<PreparedData>,
    private readonly capacity = 2,
  ) {}

  get(path: string): Promise<PreparedData> {
    const hit = this.entries.get(path);
    if (hit !== undefined) {
      this.entries.delete(path);
      this.entries.set(path, hit);
      return hit;
    }
    const loading = this.load(path);
    // A failed load is not cached: the user may fix the file and resume.
    loading.catch(() => {
      if (this.entries.get(path) === loading) this.entries.delete(path);
    });
    this.entries.set(path, loading);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return loading;
  }
}
