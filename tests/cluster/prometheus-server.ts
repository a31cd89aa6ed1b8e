import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../e2e/helpers.js';

const UNPACKED = fileURLToPath(new URL('../../.tools/prometheus/usr/bin/', import.meta.url));

/** Debian's prometheus and promtool: unpacked by `make system-deps` into .tools/prometheus, or installed, or named by $PROMETHEUS_BIN / $PROMTOOL_BIN. */
export function prometheusTool(name: 'prometheus' | 'promtool'): string {
  const fromEnv = process.env[name === 'prometheus' ? 'PROMETHEUS_BIN' : 'PROMTOOL_BIN'];
  const candidates = [fromEnv, join(UNPACKED, name), `/usr/bin/${name}`].filter((p): p is string => p !== undefined && p !== '');
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`${name} not found (looked in ${candidates.join(', ')}): run 'make system-deps', which unpacks Debian's prometheus package into .tools/prometheus`);
  return found;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A real Prometheus server on loopback with its own temporary storage, and its HTTP query API. */
export class PrometheusServer {
  private log = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
  }

  static async start(configFile: string): Promise<PrometheusServer> {
    const port = await freePort();
    const storage = mkdtempSync(join(tmpdir(), 'cellsweep-prometheus-'));
    const child = spawn(
      prometheusTool('prometheus'),
      [`--config.file=${configFile}`, `--storage.tsdb.path=${storage}`, `--web.listen-address=127.0.0.1:${port}`, '--web.enable-lifecycle'],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    const server = new PrometheusServer(child, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}) while starting:\n${server.output}`);
      const ready = await fetch(`${server.url}/-/ready`).then((r) => r.ok, () => false);
      if (ready) return server;
      if (Date.now() > deadline) throw new Error(`prometheus not ready within 30 s:\n${server.output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  get output(): string {
    return this.log;
  }

  /** An instant query at `time` (seconds since the epoch; now when unset). Throws on a query error, naming the query. */
  async query(expr: string, time?: number): Promise<PromSample[]> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', String(time));
    const body = (await (await fetch(`${this.url}/api/v1/query?${params}`)).json()) as { status: string; error?: string; data?: { resultType: string; result: PromSample[] } };
    if (body.status !== 'success') throw new Error(`query failed: ${expr}: ${body.error}`);
    if (body.data!.resultType !== 'vector') throw new Error(`expected a vector from ${expr}, got ${body.data!.resultType}`);
    return body.data!.result;
  }

  async api<T>(path: string): Promise<T> {
    const body = (await (await fetch(`${this.url}/api/v1/${path}`)).json()) as { status: string; data: T };
    if (body.status !== 'success') throw new Error(`GET /api/v1/${path}: ${JSON.stringify(body)}`);
    return body.data;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
