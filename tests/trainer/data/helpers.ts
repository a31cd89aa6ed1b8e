import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from '../../../core/errors.js';

/** The shared folder lies beside the repository (CI clones the repo next to it). */
export const REAL_DATA = fileURLToPath(new URL('../../../../shared/data/real/', import.meta.url));

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'cellsweep-data-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes `files` (relative name -> content) under `dir`. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
}

export interface ExpectedError {
  /** The end of the file path (the temp dir differs per run). */
  file?: string;
  line?: number;
  field?: string;
  /** The detail after the place: matched exactly when a string, else by pattern. */
  detail: string | RegExp;
}

/** Asserts that `action` rejects with one DataError at the given place and with the given detail. */
export async function rejectsWithDataError(action: Promise<unknown> | (() => unknown), want: ExpectedError): Promise<void> {
  await assert.rejects(
    async () => {
      await (typeof action === 'function' ? action() : action);
    },
    (err: unknown) => {
      assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
      const { file, line, field } = err.place;
      if (want.file !== undefined) assert.ok(file?.endsWith(want.file), `file ${file} should end with ${want.file}`);
      else assert.equal(file, undefined);
      assert.equal(line, want.line, `line in: ${err.message}`);
      assert.equal(field, want.field, `field in: ${err.message}`);
      const detail = err.message.slice(err.message.indexOf(': ') + 2);
      if (typeof want.detail === 'string') assert.equal(err.place.file === undefined && err.place.field === undefined ? err.message : detail, want.detail);
      else assert.match(err.message, want.detail);
      return true;
    },
  );
}
