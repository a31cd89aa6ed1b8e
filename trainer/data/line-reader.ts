import { open, type FileHandle } from 'node:fs/promises';
import { DataError } from '../../core/errors.js';

/**
 * Byte-level line reading for large delimited files. Expression matrices reach
 * ~1 GB of text (7,440 cells x 12,715 genes), so lines are handed to the
 * caller as byte ranges of one reused buffer instead of strings: no string
 * per line, no string per field, memory bounded by the longest line.
 */

/** Called once per line with the byte range [start, end) of `buf`, without the line break (LF or CRLF). */
export type LineHandler = (buf: Buffer, start: number, end: number, line: number) => void;

const CHUNK = 1 << 22; // 4 MiB: few syscalls, and most matrix lines (~100 KB) fit many times over.
const LF = 0x0a;
const CR = 0x0d;

/**
 * Calls `onLine` for every line of `path`, in order, with 1-based line numbers.
 * A final line without a line break is still delivered; a UTF-8 byte-order
 * mark at the start of the file (Excel's CSV export) is skipped.
 */
export async function forEachLine(path: string, onLine: LineHandler): Promise<void> {
  const handle = await openForReading(path);
  try {
    let buf = Buffer.allocUnsafe(CHUNK);
    let filled = 0; // bytes of buf holding data
    let lineNo = 0;
    let first = true;
    for (;;) {
      if (filled === buf.length) {
        // One line is longer than the buffer: grow it rather than split the line.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const { bytesRead } = await readChunk(handle, path, buf, filled);
      const eof = bytesRead === 0;
      filled += bytesRead;
      let start = 0;
      if (first && filled >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
      if (first && (filled >= 3 || eof)) first = false;
      for (;;) {
        const lf = buf.indexOf(LF, start);
        if (lf < 0 || lf >= filled) break;
        lineNo++;
        onLine(buf, start, lf > start && buf[lf - 1] === CR ? lf - 1 : lf, lineNo);
        start = lf + 1;
      }
      if (eof) {
        if (start < filled) {
          lineNo++;
          onLine(buf, start, buf[filled - 1] === CR ? filled - 1 : filled, lineNo);
        }
        return;
      }
      // Keep the unfinished line at the front of the buffer for the next read.
      buf.copy(buf, 0, start, filled);
      filled -= start;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Number of lines `forEachLine` would deliver. A cheap first pass (native
 * `indexOf` over the bytes) that lets the reader allocate the value matrix
 * once at its final size instead of growing and copying it.
 */
export async function countLines(path: string): Promise<number> {
  const handle = await openForReading(path);
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let lines = 0;
    let last = LF;
    for (;;) {
      const { bytesRead } = await readChunk(handle, path, buf, 0);
      if (bytesRead === 0) break;
      let at = buf.indexOf(LF, 0);
      while (at >= 0 && at < bytesRead) {
        lines++;
        at = buf.indexOf(LF, at + 1);
      }
      last = buf[bytesRead - 1] as number;
    }
    return last === LF ? lines : lines + 1;
  } finally {
    await handle.close();
  }
}

async function openForReading(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    throw new DataError(`expected a readable file, but got ${describeIoError(err)}`, { file: path }, { cause: err });
  }
}

async function readChunk(handle: FileHandle, path: string, buf: Buffer, offset: number): Promise<{ bytesRead: number }> {
  try {
    return await handle.read(buf, offset, buf.length - offset, null);
  } catch (err) {
    // EISDIR lands here: opening a directory succeeds on Linux, reading it fails.
    throw new DataError(`expected a readable file, but got ${describeIoError(err)}`, { file: path }, { cause: err });
  }
}

/** A short reason for an I/O failure, worded to follow "but got": "no such file", "a directory". */
export function describeIoError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'a directory';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
