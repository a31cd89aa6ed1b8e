import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { parseJournal } from '../../coordinator/journal/file-journal.js';
import { replay } from '../../coordinator/journal/replay.js';
import { failedTrials, summaryTable } from '../../coordinator/report/outputs.js';
import { parseCommand } from '../args.js';
import { readFile } from 'node:fs/promises';
import { JOURNAL_FILE } from './sweep.js';

const USAGE = 'Usage: cellsweep report DIR';

/** The summary of a sweep directory, rebuilt from its journal (read-only: safe while the sweep runs). */
export async function reportCommand(argv: string[]): Promise<number> {
  const { positionals } = parseCommand(argv, {}, USAGE);
  if (positionals.length !== 1) throw new ConfigError(`expected one sweep directory\n\n${USAGE}`);
  const path = join(resolve(positionals[0]!), JOURNAL_FILE);
  if (!existsSync(path)) throw new ConfigError(`no sweep here: ${path} does not exist`);
  const { records } = parseJournal(await readFile(path, 'utf8'), path);
  const state = replay(records, path);
  process.stdout.write(`sweep ${state.config.name} (${state.sweepId}): ${state.status}\n\n${summaryTable(state)}\n`);
  const failed = failedTrials(state);
  if (failed.length > 0) {
    process.stdout.write(`\nfailed trials:\n${failed.map((t) => `  ${t.study} #${t.number}: ${t.reason ?? ''}`).join('\n')}\n`);
  }
  return 0;
}
