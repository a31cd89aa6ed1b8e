import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** docs/architecture.md's layering: coordinator and trainer share code through core/ only. */
const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
}

function violations(from: string, forbidden: string[]): string[] {
  return sources(from).flatMap((file) =>
    importsOf(file)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => relative(root, join(root, file, '..', spec)))
      .filter((target) => forbidden.some((f) => target.startsWith(f + '/')))
      .map((target) => `${file} imports ${target}`),
  );
}

test('coordinator/ does not import trainer/ or cli/', () => {
  assert.deepEqual(violations('coordinator', ['trainer', 'cli']), []);
});

test('trainer/ does not import coordinator/ or cli/', () => {
  assert.deepEqual(violations('trainer', ['coordinator', 'cli']), []);
});

test('core/ imports nothing but proto/gen and itself', () => {
  assert.deepEqual(violations('core', ['coordinator', 'trainer', 'cli']), []);
});
