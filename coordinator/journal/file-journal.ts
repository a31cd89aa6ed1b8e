import { open, readFile, type FileHandle } from 'node:fs/promises';
import { JournalError } from '../../core/errors.js';
import type { JournalBackend } from './backend.js';
import type { JournalRecord } from './records.js';

/**
 * A journal in one JSON-lines file. Appends go through one queue, each batch
 * written then fsync'd before the promise resolves. A process killed in the
 * middle of a write leaves a torn last line: opening the file drops it (that
 * record was never acknowledged, so nothing acted on it); a bad line anywhere
 * else is corruption and is reported with its line number.
 */
export class FileJournal implements JournalBackend {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private records: JournalRecord[],
    /** What opening repaired, for the CLI to mention. */
    readonly repaired: string | undefined,
  ) {}

  /** Opens (creating when `create`) and loads the file; a torn tail is truncated. */
  static async open(path: string, opts: { create: boolean }): Promise<FileJournal> {
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !opts.create) {
        throw new JournalError(`cannot read the journal: ${(err as Error).message}`, { file: path }, { cause: err });
      }
    }
    const { records, validBytes, repaired } = parseJournal(text, path);
    // O_APPEND: every write lands at the end, whatever else holds the file.
    const handle = await open(path, 'a');
    if (validBytes < Buffer.byteLength(text, 'utf8')) {
      await handle.truncate(validBytes);
      await handle.sync();
    }
    return new FileJournal(path, handle, records, repaired);
  }

  async read(from = 0): Promise<JournalRecord[]> {
    await this.queue;
    return this.records.slice(from);
  }

  append(records: readonly JournalRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new JournalError('the journal is closed', { file: this.path }));
    const text = records.map((r) => JSON.stringify(r) + '\n').join('');
    const done = this.queue.then(async () => {
      // Positionless writes on an O_APPEND handle always land at the end.
      await this.handle.write(text, null, 'utf8');
      await this.handle.sync();
      this.records.push(...records);
    });
    // A failed append must not wedge the queue for later callers; it is reported to this caller.
    this.queue = done.catch(() => undefined);
    return done;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.handle.close();
  }
}

export function parseJournal(text: string, file: string): { records: JournalRecord[]; validBytes: number; repaired: string | undefined } {
  const records: JournalRecord[] = [];
  let offset = 0;
  let line = 0;
  while (offset < text.length) {
    line++;
    const end = text.indexOf('\n', offset);
    const isLast = end === -1 || end === text.length - 1;
    const raw = end === -1 ? text.slice(offset) : text.slice(offset, end);
    let record: JournalRecord | undefined;
    try {
      record = JSON.parse(raw) as JournalRecord;
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
    records.push(record as JournalRecord);
    offset = end + 1;
  }
  return { records, validBytes: Buffer.byteLength(text, 'utf8'), repaired: undefined };
}
