import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../e2e/helpers.js';

const CONTENDER = fileURLToPath(new URL('./lock-contender.ts', import.meta.url));

interface Contender {
  child: ChildProcess;
  lines: Interface;
  next(): Promise<string>;
}

function startContender(args: string[]): Contender {
  const child = spawn(process.execPath, ['--import', 'tsx', CONTENDER, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const queue: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => (waiting.length > 0 ? waiting.shift()!(line) : queue.push(line)));
  return { child, lines, next: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiting.push(resolve))) };
}

/**
 * Separate processes open one journal at the same moment, round after round,
 * with no lock there (a half-made lock must not look stale) and with a stale
 * one left by a killed process (two takeovers must not both win): exactly one
 * opens it, and every other names the winner's pid.
 */
async function race(name: string, contenderArgs: string[]): Promise<void> {
  const dir = tempDir(name);
  const contenders = Array.from({ length: 4 }, () => startContender(contenderArgs));
  try {
    for (const c of contenders) assert.equal(await c.next(), 'ready');
    for (let round = 0; round < 40; round++) {
      const path = join(dir, `journal-${round}.jsonl`);
      writeFileSync(path, '{"op":"sweep_created"}\n');
      if (round % 4 === 1) writeFileSync(`${path}.lock`, '999999999\n'); // no such process: stale
      if (round % 8 === 3) writeFileSync(`${path}.lock`, ''); // its maker was killed before writing its pid (each costs the 2 s wait)
      for (const c of contenders) c.child.stdin!.write(`open ${path}\n`);
      const answers = await Promise.all(contenders.map((c) => c.next()));
      const winners = contenders.filter((_, i) => answers[i] === 'won');
      assert.equal(winners.length, 1, `round ${round}: ${answers.join(' | ')}`);
      for (const answer of answers.filter((a) => a !== 'won')) {
        assert.match(answer, new RegExp(`^lost .*the sweep is in use by process ${winners[0]!.child.pid}`), `round ${round}`);
      }
      for (const c of contenders) c.child.stdin!.write('close\n');
      for (const c of contenders) assert.equal(await c.next(), 'closed');
    }
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.lock')), [], 'no lock or temporary lock file is left behind');
  } finally {
    for (const c of contenders) c.child.kill();
  }
}

test('processes racing for a journal: exactly one opens it, with or without a stale lock', { timeout: 120_000 }, () => race('journal-lock', []));

test('the same race on a file system without hard links (link fails with EPERM): still exactly one', { timeout: 120_000 }, () =>
  race('journal-lock-nolink', ['--no-hard-links']),
);
