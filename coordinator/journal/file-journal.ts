import { randomBytes } from 'node:crypto';
import { link, open, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname } from 'node:path';
import { syncDirectory } from '../../core/atomic-file.js';
import { JournalError } from '../../core/errors.js';
import type { JournalBackend } from './backend.js';
import type { JournalRecord } from './records.js';

/**
 * A journal in one JSON-lines file. Appends go through one queue, each batch
 * written whole then fsync'd before the promise resolves. A process killed in
 * the middle of a write leaves a torn last line: opening the file drops it
 * (that record was never acknowledged, so nothing acted on it); a bad line
 * anywhere else is corruption and is reported with its line number.
 *
 * One writer at a time: `<journal>.lock` holds the writer's pid, so a second
 * `--resume` of a running sweep is refused instead of interleaving records.
 */
export class FileJournal<R extends { op: string } = JournalRecord> implements JournalBackend<R> {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  /** Set after a failed append: later appends are refused so nothing lands after a partial record. */
  private broken: Error | undefined;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly records: R[],
    /** Bytes of complete, acknowledged records: where a failed append is cut back to. */
    private size: number,
    /** What opening repaired, for the CLI to mention. */
    readonly repaired: string | undefined,
  ) {}

  /** Opens (creating when `create`) for appending; takes the writer lock; a torn tail is truncated. */
  static async open<R extends { op: string } = JournalRecord>(path: string, opts: { create: boolean }): Promise<FileJournal<R>> {
    await takeLock(path);
    try {
      let text = '';
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !opts.create) {
          throw new JournalError(`cannot read the journal: ${(err as Error).message}`, { file: path }, { cause: err });
        }
      }
      const { records, validBytes, repaired } = parseJournal<R>(text, path);
      // O_APPEND: every write lands at the end, whatever else holds the file.
      const handle = await open(path, 'a');
      if (validBytes < Buffer.byteLength(text, 'utf8')) {
        await handle.truncate(validBytes);
        await handle.sync();
      }
      if (text === '') await syncDirectory(dirname(path));
      return new FileJournal<R>(path, handle, records, validBytes, repaired);
    } catch (err) {
      await releaseLock(path);
      throw err;
    }
  }

  async read(from = 0): Promise<R[]> {
    await this.queue;
    return this.records.slice(from);
  }

  append(records: readonly R[]): Promise<void> {
    if (this.closed) return Promise.reject(new JournalError('the journal is closed', { file: this.path }));
    const bytes = Buffer.from(records.map((r) => JSON.stringify(r) + '\n').join(''), 'utf8');
    const done = this.queue.then(async () => {
      if (this.broken !== undefined) throw new JournalError(`an earlier append failed (${this.broken.message}); the journal takes no more records`, { file: this.path });
      try {
        // A write may be short (disk full, file size limit): loop until all of it is down.
        for (let offset = 0; offset < bytes.length; ) {
          const { bytesWritten } = await this.handle.write(bytes, offset, bytes.length - offset, null);
          if (bytesWritten === 0) throw new Error('the disk accepted no more bytes');
          offset += bytesWritten;
        }
        await this.handle.sync();
      } catch (err) {
        this.broken = err as Error;
        // Cut the partial record off, so the file stays replayable.
        await this.handle.truncate(this.size).catch(() => undefined);
        throw new JournalError(`cannot append to the journal: ${(err as Error).message}`, { file: this.path }, { cause: err });
      }
      this.size += bytes.length;
      this.records.push(...records);
    });
    // The failure is reported to this caller; the queue itself stays usable for close().
    this.queue = done.catch(() => undefined);
    return done;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.handle.close();
    await releaseLock(this.path);
  }
}

/**
 * The lock file appears whole, holder pid inside, or not at all (a hard link
 * to a file already written), so no process reads a half-made lock as stale.
 * A stale lock (its holder was killed) is removed only by the process that
 * holds `<lock>.takeover`, after it has looked again: two processes that both
 * saw the stale lock cannot both replace it. Written here because the lock
 * libraries on npm judge staleness by age, and a sweep may hold its journal
 * for days.
 */
async function takeLock(path: string): Promise<void> {
  const lock = `${path}.lock`;
  const guard = `${lock}.takeover`;
  const mine = `${lock}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(mine, `${process.pid}\n`);
    // A takeover takes microseconds; one that lasts seconds is a guard whose pid now belongs to another process.
    const deadline = Date.now() + 2000;
    for (;;) {
      if (await linkIfAbsent(mine, lock)) return;
      const holder = await lockHolder(lock);
      if (holder === undefined) continue; // released meanwhile
      if (isLiveHolder(holder)) throw inUse(lock, holder);
      if (!(await linkIfAbsent(mine, guard))) {
        const taker = await lockHolder(guard);
        // A taker killed inside its takeover leaves the guard behind. Removing it
        // is not guarded itself: openers racing at that moment could both win,
        // which needs a kill within the microseconds of a takeover first.
        if (taker !== undefined && !isLiveHolder(taker)) await rm(guard, { force: true });
        else if (Date.now() > deadline) {
          throw new JournalError(`a takeover of the stale lock by process ${taker} has not finished; remove this file if that process is not cellsweep`, { file: guard });
        } else await sleep(5);
        continue;
      }
      try {
        const again = await lockHolder(lock);
        if (again !== undefined && isLiveHolder(again)) throw inUse(lock, again);
        await rm(lock, { force: true });
        // A process that found no lock may have linked its own since: then it holds the lock.
        if (await linkIfAbsent(mine, lock)) return;
      } finally {
        await rm(guard, { force: true });
      }
    }
  } catch (err) {
    if (err instanceof JournalError) throw err;
    throw new JournalError(`cannot lock the journal: ${(err as Error).message}`, { file: lock });
  } finally {
    await rm(mine, { force: true });
  }
}

/** link(2) fails when the target exists: true when this call made it. */
async function linkIfAbsent(existing: string, target: string): Promise<boolean> {
  try {
    await link(existing, target);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function lockHolder(file: string): Promise<number | undefined> {
  try {
    return Number((await readFile(file, 'utf8')).trim());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new JournalError(`cannot read the journal lock: ${(err as Error).message}`, { file });
  }
}

/**
 * Our own pid counts as stale: a container restarts with the same pid as the
 * process that left the lock.
 */
function isLiveHolder(pid: number): boolean {
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid);
}

function inUse(lock: string, holder: number): JournalError {
  return new JournalError(`the sweep is in use by process ${holder}; stop it first (or remove the lock file if that process is not cellsweep)`, { file: lock });
}

async function releaseLock(path: string): Promise<void> {
  await rm(`${path}.lock`, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function parseJournal<R extends { op: string } = JournalRecord>(text: string, file: string): { records: R[]; validBytes: number; repaired: string | undefined } {
  const records: R[] = [];
  let offset = 0;
  let line = 0;
  while (offset < text.length) {
    line++;
    const end = text.indexOf('\n', offset);
    const isLast = end === -1 || end === text.length - 1;
    const raw = end === -1 ? text.slice(offset) : text.slice(offset, end);
    let record: R | undefined;
    try {
      record = JSON.parse(raw) as R;
    } catch {
      record = undefined;
    }
    const complete = end !== -1 && record !== undefined && typeof record === 'object' && record !== null && 'op' in record;
    if (!complete) {
      if (isLast) {
        return { records, validBytes: Buffer.byteLength(text.slice(0, offset), 'utf8'), repaired: `dropped a torn last record at line ${line}` };
      }
      throw new JournalError('corrupt record (not a complete JSON object); the journal cannot be replayed', { file, line });
    }
    records.push(record as R);
    offset = end + 1;
  }
  return { records, validBytes: Buffer.byteLength(text, 'utf8'), repaired: undefined };
}
