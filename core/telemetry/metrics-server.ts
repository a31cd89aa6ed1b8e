import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ConfigError } from '../errors.js';

/**
 * A fresh registry with Node's default process metrics (CPU, memory, event
 * loop lag, GC). Those keep their standard names (process_*, nodejs_*) rather
 * than a cellsweep_ prefix, so stock Node.js dashboards and alerts work on
 * them unchanged; everything cellsweep defines is named cellsweep_*.
 */
export function createRegistry(component: 'coordinator' | 'trainer'): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface MetricsServerOptions {
  registry: Registry;
  /** HOST:PORT; port 0 picks a free one. */
  listen: string;
  /** Whether the process can do its work now (e.g. connected to NATS): /readyz answers 200 or 503 with the reason. */
  ready(): { ok: true } | { ok: false; reason: string };
}

export interface MetricsServer {
  /** HOST:PORT actually bound. */
  address: string;
  close(): Promise<void>;
}

/**
 * The HTTP side of a process: GET /metrics for Prometheus, /healthz for a
 * liveness probe (the event loop answers), /readyz for a readiness probe.
 * Node's http module is enough: three fixed routes need no framework.
 */
export async function serveMetrics(opts: MetricsServerOptions): Promise<MetricsServer> {
  const { host, port } = parseListen(opts.listen);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${err.message}\n`),
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const state = opts.ready();
      res.writeHead(state.ok ? 200 : 503, { 'content-type': 'text/plain' }).end(state.ok ? 'ready\n' : `not ready: ${state.reason}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new ConfigError(`cannot serve metrics on ${opts.listen}: ${err.message}`, { field: '--metrics-listen' })));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parseListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  const port = Number(listen.slice(at + 1));
  const host = listen.slice(0, Math.max(0, at)).replace(/^\[(.*)\]$/, '$1');
  if (at < 0 || host === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`expected HOST:PORT (e.g. 0.0.0.0:9464), but got '${listen}'`, { field: '--metrics-listen' });
  }
  return { host, port };
}
