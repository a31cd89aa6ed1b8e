import { createServer } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseJournal } from '../../coordinator/journal/file-journal.js';
import type { JournalRecord } from '../../coordinator/journal/records.js';
import { writeSyntheticDataset, type ShapeName } from '../../trainer/data/index.js';

export const BIN = fileURLToPath(new URL('../../bin/cellsweep.mjs', import.meta.url));

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `cellsweep-${prefix}-`));
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the real CLI as a child process (the way a user runs it). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, CELLSWEEP_BACKEND: 'wasm', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, like a shell job: a test can send the group a terminal's Ctrl-C.
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return startCli(args, env).done;
}

/** Small synthetic datasets (fast to train) in the shapes of the paper's datasets. */
export async function tinyDataset(dir: string, shape: ShapeName, seed = 1): Promise<string> {
  await writeSyntheticDataset(dir, { shape, genes: 60, seed, bulkScale: 0.25, cellScale: shape === 'data6' ? 1 : 0.25 });
  return dir;
}

/** The journal's records; safe while the sweep writes it (a torn last line is left out). */
export function readJournal(sweepDir: string): JournalRecord[] {
  const path = join(sweepDir, 'journal.jsonl');
  return parseJournal(readFileSync(path, 'utf8'), path).records;
}

export function runKey(r: { study: string; trial: number; seed: number }): string {
  return `${r.study}/${r.trial}/${r.seed}`;
}

export async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** waitFor with an async probe; `logs` adds what the processes said to a timeout's message. */
export async function waitForAsync<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, logs?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${logs === undefined ? '' : `\n${logs().slice(-6000)}`}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** pids of a process's direct children (Linux /proc), to check that trainers do not outlive their CLI. */
export function childPids(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.trim() === '' ? [] : text.trim().split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port free on loopback now (for processes that take a fixed port). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
