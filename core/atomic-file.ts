import { randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

/**
 * Writes `content` so that readers see either the old file or the whole new
 * one, never a half-written file: write a temporary sibling, fsync it, rename
 * it over the target, fsync the directory so the rename itself survives a crash.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  // A unique name: two writers of the same file must not share a temporary.
  const tmp = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await rename(tmp, path);
  await syncDirectory(dirname(path));
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
