import { resolve } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { readSweepDir } from '../../coordinator/journal/sweep-dir.js';
import { failedTrials, summaryTable } from '../../coordinator/report/outputs.js';
import { parseCommand } from '../args.js';

const USAGE = 'Usage: cellsweep report DIR';

/** The summary of a sweep directory, rebuilt from its journal (read-only: safe while the sweep runs). */
export async function reportCommand(argv: string[]): Promise<number> {
  const { positionals } = parseCommand(argv, {}, USAGE);
  if (positionals.length !== 1) throw new ConfigError(`expected one sweep directory\n\n${USAGE}`);
  const state = await readSweepDir(resolve(positionals[0]!));
  process.stdout.write(`sweep ${state.config.name} (${state.sweepId}): ${state.status}\n\n${summaryTable(state)}\n`);
  const failed = failedTrials(state);
  if (failed.length > 0) {
    process.stdout.write(`\nfailed trials:\n${failed.map((t) => `  ${t.study} #${t.number}: ${t.reason ?? ''}`).join('\n')}\n`);
  }
  return 0;
}
