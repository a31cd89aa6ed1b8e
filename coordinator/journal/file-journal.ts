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
 * Where the file system has no hard links (exFAT, some SMB mounts) the lock is
 * made by exclusive create instead, and a lock without a pid yet is waited on
 * for up to two seconds before it counts as stale. A stale lock (its holder was
 * killed) is removed only by the process that holds `<lock>.takeover`, after it
 * has looked again and found the same holder: two processes that both saw the
 * stale lock cannot both replace it. Written here because the lock libraries
 * on npm judge staleness by age, and a sweep may hold its journal for days.
 */
async function takeLock(path: string): Promise<void> {
  const lock = `${path}.lock`;
  const guard = `${lock}.takeover`;
  const mine = `${lock}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(mine, `${process.pid}\n`);
    // A takeover, or an exclusive create's write of its pid, takes microseconds.
    // One that looks the same for seconds was killed, or its pid now belongs to
    // another process: `patient` waits on one such sight for two seconds.
    const firstSeen = new Map<string, number>();
    const patient = async (sight: string): Promise<boolean> => {
      const since = firstSeen.get(sight) ?? Date.now();
      firstSeen.set(sight, since);
      if (Date.now() - since > 2000) return false;
      await sleep(5);
      return true;
    };
    for (;;) {
      if (await publishIfAbsent(mine, lock)) return;
      const holder = await lockHolder(lock);
      if (holder === undefined) continue; // released meanwhile
      if (!isPid(holder) && (await patient(`lock ${holder}`))) continue;
      if (isLiveHolder(holder)) throw inUse(lock, holder);
      if (!(await publishIfAbsent(mine, guard))) {
        const taker = await lockHolder(guard);
        if (taker === undefined) continue;
        // A taker killed inside its takeover leaves the guard behind. Removing it
        // is not guarded itself: openers racing at that moment could both win,
        // which needs a kill within the microseconds of a takeover first.
        if (isPid(taker) && !isLiveHolder(taker)) await rm(guard, { force: true });
        else if (!(await patient(`guard ${taker}`))) {
          const who = isPid(taker) ? `process ${taker}` : 'a process that did not write its pid';
          throw new JournalError(`a takeover of the stale lock by ${who} has not finished; remove this file if that process is not cellsweep`, { file: guard });
        }
        continue;
      }
      try {
        const again = await lockHolder(lock);
        if (again !== undefined && !Object.is(again, holder)) continue; // someone else's lock now: judge it afresh
        await rm(lock, { force: true });
        // A process that found no lock may have made its own since: then it holds the lock.
        if (await publishIfAbsent(mine, lock)) return;
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

/** What link(2) answers on file systems without hard links. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Makes `target` a copy of `mine` (a file holding our pid) unless it exists:
 * true when this call made it. A hard link appears with its content; the
 * exclusive create used without hard links is empty for a moment, which
 * readers wait out (`patient` in takeLock).
 */
async function publishIfAbsent(mine: string, target: string): Promise<boolean> {
  try {
    await link(mine, target);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_HARD_LINKS.has(code)) throw err;
  }
  let handle: FileHandle;
  try {
    handle = await open(target, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(await readFile(mine));
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
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
  return isPid(pid) && pid !== process.pid && isAlive(pid);
}

/** False for an empty or half-written lock file. */
function isPid(n: number): boolean {
  return Number.isInteger(n) && n > 0;
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
