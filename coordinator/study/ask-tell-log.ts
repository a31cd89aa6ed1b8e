import { ConfigError } from '../../core/errors.js';
import type { Params } from '../../core/params.js';
import { FileJournal } from '../journal/file-journal.js';
import { createSampler } from '../samplers/index.js';
import type { SearchSpace } from '../space/search-space.js';
import { AskTellStudy, type AskedTrial, type Direction, type TellOutcome } from './ask-tell.js';

/** The records of an ask/tell study's log (JSON lines, fsync'd, as the sweep journal). */
export type AskTellRecord =
  | { op: 'created'; v: 1; t: number; space: SearchSpace; sampler: string; seed: number; samplerOptions?: Record<string, unknown>; direction: Direction }
  | { op: 'asked'; t: number; trial: number; params: Params }
  | { op: 'told'; t: number; trial: number; outcome: TellOutcome };

export interface AskTellSetup {
  space: SearchSpace;
  sampler: string;
  seed: number;
  samplerOptions?: Record<string, unknown>;
  direction: Direction;
}

/**
 * An ask/tell study kept in a file, so an external optimiser loop can stop
 * and continue: every ask and tell is appended and synced before it is
 * answered; reopening replays them (the sampler then asks exactly what it
 * would have). One process at a time (the journal's lock).
 */
export class AskTellLog {
  private constructor(
    readonly study: AskTellStudy,
    private readonly journal: FileJournal<AskTellRecord>,
  ) {}

  /** Opens `path`; creates it from `setup` when it does not exist (a missing setup is then an error). */
  static async open(path: string, setup?: AskTellSetup): Promise<AskTellLog> {
    const journal = await FileJournal.open<AskTellRecord>(path, { create: setup !== undefined });
    try {
      let records = await journal.read();
      if (records.length === 0) {
        if (setup === undefined) throw new ConfigError('the ask/tell log is empty: give a space and a sampler to create it', { file: path });
        const created: AskTellRecord = { op: 'created', v: 1, t: Date.now(), ...setup };
        await journal.append([created]);
        records = [created];
      }
      return new AskTellLog(replayAskTell(records, path), journal);
    } catch (err) {
      await journal.close();
      throw err;
    }
  }

  async ask(n = 1): Promise<AskedTrial[]> {
    const first = this.study.trials().length;
    const batch = this.study.propose(n);
    await this.journal.append(batch.map((params, i) => ({ op: 'asked' as const, t: Date.now(), trial: first + i, params })));
    return batch.map((params, i) => this.study.record(first + i, params));
  }

  async tell(trial: number, outcome: TellOutcome): Promise<void> {
    this.study.checkTell(trial, outcome);
    await this.journal.append([{ op: 'told', t: Date.now(), trial, outcome }]);
    this.study.tell(trial, outcome);
  }

  close(): Promise<void> {
    return this.journal.close();
  }
}

export function replayAskTell(records: readonly AskTellRecord[], file: string): AskTellStudy {
  const [created, ...rest] = records;
  if (created?.op !== 'created') throw new ConfigError('not an ask/tell log (no created record first)', { file, line: 1 });
  const study = new AskTellStudy(created.space, createSampler(created.sampler, created.seed, created.samplerOptions), created.direction);
  rest.forEach((r, i) => {
    try {
      if (r.op === 'asked') study.record(r.trial, r.params);
      else if (r.op === 'told') study.tell(r.trial, r.outcome);
      else throw new ConfigError(`unexpected record '${r.op}'`);
    } catch (err) {
      throw new ConfigError((err as Error).message, { file, line: i + 2 });
    }
  });
  return study;
}
