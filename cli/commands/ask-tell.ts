import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { ConfigError, expected } from '../../core/errors.js';
import { loadSpace } from '../../coordinator/space/parse-space.js';
import { AskTellLog, type AskTellSetup } from '../../coordinator/study/ask-tell-log.js';
import { handleRequest } from '../../coordinator/study/ask-tell-protocol.js';
import type { TellOutcome } from '../../coordinator/study/ask-tell.js';
import { intOption, parseCommand } from '../args.js';

const CREATE_OPTIONS = {
  state: { type: 'string' },
  space: { type: 'string' },
  sampler: { type: 'string', default: 'tpe' },
  seed: { type: 'string', default: '0' },
  minimize: { type: 'boolean', default: false },
} as const;

const USAGE = `Usage: cellsweep ask-tell --state FILE [--space NAME|FILE.yaml] [--sampler tpe|random|grid] [--seed S] [--minimize]
         JSON lines on stdin -> JSON lines on stdout (see docs/ask-tell.md)
       cellsweep ask --state FILE [--n K]
       cellsweep tell --state FILE --trial N (--value V | --fail | --pruned)
The state file is created on first use from --space/--sampler/--seed; later calls continue it.`;

/**
 * Drives a sampler from another program: a long-lived JSON-lines session
 * (`ask-tell`), or one request per process (`ask`, `tell`). Either way every
 * ask and tell is in the state file before it is answered.
 */
export async function askTellCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, CREATE_OPTIONS, USAGE);
  const log = await openLog(values);
  try {
    let line = 0;
    for await (const text of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      line++;
      if (text.trim() === '') continue;
      process.stdout.write(JSON.stringify(await handleRequest(log, text, line)) + '\n');
    }
  } finally {
    await log.close();
  }
  return 0;
}

export async function askCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, { ...CREATE_OPTIONS, n: { type: 'string' } }, USAGE);
  const log = await openLog(values);
  try {
    const n = intOption(values.n, 'n', 1);
    const batch = await log.ask(n ?? 1);
    process.stdout.write(JSON.stringify(n === undefined ? (batch[0] ?? { trial: null, exhausted: true }) : { trials: batch }) + '\n');
  } finally {
    await log.close();
  }
  return 0;
}

export async function tellCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(
    argv,
    { state: { type: 'string' }, trial: { type: 'string' }, value: { type: 'string' }, fail: { type: 'boolean', default: false }, pruned: { type: 'boolean', default: false } },
    USAGE,
  );
  const trial = intOption(values.trial, 'trial', 0);
  if (trial === undefined) throw new ConfigError(`--trial N is required\n\n${USAGE}`);
  const chosen = [values.value !== undefined, values.fail, values.pruned].filter(Boolean).length;
  if (chosen !== 1) throw new ConfigError(`give exactly one of --value V, --fail, --pruned\n\n${USAGE}`);
  let outcome: TellOutcome;
  if (values.fail) outcome = { state: 'FAIL' };
  else if (values.pruned) outcome = { state: 'PRUNED' };
  else {
    const value = Number(values.value);
    if (values.value!.trim() === '' || !Number.isFinite(value)) throw new ConfigError(expected('a finite number', values.value), { field: '--value' });
    outcome = { state: 'COMPLETE', value };
  }
  const log = await openLog({ state: values.state });
  try {
    await log.tell(trial, outcome);
    process.stdout.write(JSON.stringify({ ok: true, trial }) + '\n');
  } finally {
    await log.close();
  }
  return 0;
}

async function openLog(values: { state?: string; space?: string; sampler?: string; seed?: string; minimize?: boolean }): Promise<AskTellLog> {
  if (values.state === undefined) throw new ConfigError(`--state FILE is required\n\n${USAGE}`);
  const path = resolve(values.state);
  if (existsSync(path)) return AskTellLog.open(path);
  if (values.space === undefined) throw new ConfigError(`${path} does not exist yet: give --space to create it`, { field: '--space' });
  const setup: AskTellSetup = {
    space: loadSpace(values.space),
    sampler: values.sampler ?? 'tpe',
    seed: intOption(values.seed, 'seed', 0) ?? 0,
    direction: values.minimize ? 'minimize' : 'maximize',
  };
  return AskTellLog.open(path, setup);
}
