import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, expected } from '../core/errors.js';
import { BACKEND_CHOICES, backendFromEnv, type BackendChoice } from '../trainer/backend/index.js';

/** Thrown for --help / -h: main() prints the usage on stdout and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super('help requested');
  }
}

/** Thin wrapper on node's parseArgs: usage errors become ConfigErrors that name the option; --help prints the usage. */
export function parseCommand<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  usage: string,
): { values: ReturnType<typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>>['values']; positionals: string[] } {
  const end = argv.indexOf('--');
  if ((end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h')) throw new HelpRequested(usage);
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n\n${usage}`);
  }
}

export function intOption(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(expected(`an integer >= ${min}`, value), { field: `--${name}` });
  return n;
}

/** --backend wins over $CELLSWEEP_BACKEND; both are checked against the known backends. */
export function checkBackendOption(value: string | undefined): BackendChoice {
  if (value === undefined) return backendFromEnv();
  if (!(BACKEND_CHOICES as readonly string[]).includes(value)) {
    throw new ConfigError(expected(`a backend (${BACKEND_CHOICES.join(', ')})`, value), { field: '--backend' });
  }
  return value as BackendChoice;
}
