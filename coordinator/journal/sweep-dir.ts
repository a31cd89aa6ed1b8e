import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import type { SweepState } from '../study/sweep-state.js';
import { parseJournal } from './file-journal.js';
import { replay } from './replay.js';

/** A sweep directory keeps its journal under this name. */
export const JOURNAL_FILE = 'journal.jsonl';

export function journalPath(sweepDir: string): string {
  return join(sweepDir, JOURNAL_FILE);
}

/** The state of a sweep directory, read-only (safe while the sweep runs: a torn last line is ignored). */
export async function readSweepDir(sweepDir: string): Promise<SweepState> {
  const path = journalPath(sweepDir);
  if (!existsSync(path)) throw new ConfigError(`no sweep here: ${path} does not exist`);
  const { records } = parseJournal(await readFile(path, 'utf8'), path);
  return replay(records, path);
}
