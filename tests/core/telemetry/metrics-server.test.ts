import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Gauge } from 'prom-client';
import { ConfigError } from '../../../core/errors.js';
import { createRegistry, serveMetrics } from '../../../core/telemetry/metrics-server.js';

test('/metrics serves the registry with process metrics and the component label; /healthz and /readyz answer probes', async () => {
  const registry = createRegistry('trainer');
  new Gauge({ name: 'cellsweep_example', help: 'x', registers: [registry] }).set(3);
  let ready: { ok: true } | { ok: false; reason: string } = { ok: false, reason: 'disconnected from NATS' };
  const server = await serveMetrics({ registry, listen: '127.0.0.1:0', ready: () => ready });
  try {
    const base = `http://${server.address}`;
    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    assert.match(text, /^cellsweep_example\{component="trainer"\} 3$/m);
    assert.match(text, /^process_cpu_seconds_total\{component="trainer"\} /m);
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds\{component="trainer"\} /m);

    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const notReady = await fetch(`${base}/readyz`);
    assert.equal(notReady.status, 503);
    assert.equal(await notReady.text(), 'not ready: disconnected from NATS\n');
    ready = { ok: true };
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await server.close();
  }
});

test('a bad or busy --metrics-listen address is one clear error naming the option', async () => {
  const registry = createRegistry('coordinator');
  const ready = () => ({ ok: true }) as const;
  for (const listen of ['9464', ':9464', 'host:99999', 'host:abc']) {
    await assert.rejects(serveMetrics({ registry, listen, ready }), (err: unknown) => err instanceof ConfigError && /--metrics-listen/.test(err.message) && err.message.includes(listen), listen);
  }
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as { port: number }).port;
  try {
    await assert.rejects(serveMetrics({ registry, listen: `127.0.0.1:${port}`, ready }), /cannot serve metrics on 127\.0\.0\.1:\d+: listen EADDRINUSE/);
  } finally {
    busy.close();
  }
});
