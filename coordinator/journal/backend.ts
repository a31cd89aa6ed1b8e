import type { JournalRecord } from './records.js';

/**
 * Where journal records are kept. Two methods, as Optuna's journal backends:
 * a file here (local mode); a JetStream stream in cluster mode.
 */
export interface JournalBackend<R extends { op: string } = JournalRecord> {
  /** Every record from index `from` (0-based) on, in append order. */
  read(from?: number): Promise<R[]>;
  /** Appends and makes durable before resolving: the caller acts only afterwards. */
  append(records: readonly R[]): Promise<void>;
  close(): Promise<void>;
}
