import { Server, ServerCredentials, status, type ServerWritableStream } from '@grpc/grpc-js';
import { TrainerService, type RunRequest, type TrainerInfo, type TrainerServer } from '../../proto/gen/cellsweep/v1/trainer.js';
import type { RunEvent } from '../../proto/gen/cellsweep/v1/run.js';
import { InterruptedError } from '../../core/errors.js';
import { executeRun } from '../run.js';
import { modelFamilies } from '../models/registry.js';
import type { DatasetCache } from './dataset-cache.js';

export interface TrainerServerOptions {
  trainerId: string;
  backend: string;
  datasets: DatasetCache;
  version: string;
  log?: (line: string) => void;
}

/**
 * The gRPC `Trainer` service: one run at a time (a trainer owns one core or
 * one GPU), streamed as progress events and then exactly one result or
 * failure. A client that cancels the call stops the run at its next epoch.
 */
export function trainerService(opts: TrainerServerOptions): TrainerServer {
  let busy = false;
  return {
    run(call: ServerWritableStream<RunRequest, RunEvent>): void {
      const spec = call.request.spec;
      if (spec === undefined || spec.runId === '') {
        call.emit('error', { code: status.INVALID_ARGUMENT, details: 'RunRequest.spec with a run_id is required' });
        return;
      }
      if (busy) {
        call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: `trainer ${opts.trainerId} is already training a run` });
        return;
      }
      busy = true;
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      const runId = spec.runId;
      opts.log?.(`run ${runId}: started (${spec.model})`);
      executeRun(spec, {
        trainerId: opts.trainerId,
        backend: opts.backend,
        datasets: opts.datasets,
        signal: abort.signal,
        ...(opts.log === undefined ? {} : { log: opts.log }),
        onProgress: (progress) => {
          if (!call.cancelled) call.write({ runId, event: { $case: 'progress', value: progress } });
        },
      })
        .then((outcome) => {
          if ('result' in outcome) {
            opts.log?.(`run ${runId}: AUC ${outcome.result.auc.toFixed(4)} AUPR ${outcome.result.aupr.toFixed(4)} in ${outcome.result.trainSeconds.toFixed(1)} s`);
            call.write({ runId, event: { $case: 'result', value: outcome.result } });
          } else {
            opts.log?.(`run ${runId}: failed (${outcome.failure.code}): ${outcome.failure.reason}`);
            call.write({ runId, event: { $case: 'failure', value: outcome.failure } });
          }
          call.end();
        })
        .catch((err: unknown) => {
          if (err instanceof InterruptedError) opts.log?.(`run ${runId}: cancelled`);
          else opts.log?.(`run ${runId}: ${(err as Error).stack ?? String(err)}`);
          call.end();
        })
        .finally(() => {
          busy = false;
        });
    },
    info(_call, callback: (err: null, info: TrainerInfo) => void): void {
      callback(null, { trainerId: opts.trainerId, backend: opts.backend, models: modelFamilies(), version: opts.version, busy });
    },
  };
}

/** Binds the service on `host:port` (port 0 = any free port) and resolves with the bound address. */
export async function startTrainerServer(opts: TrainerServerOptions & { host: string; port: number }): Promise<{ server: Server; address: string }> {
  // Interpretability results carry a transport plan (bulk x cells float32).
  const server = new Server({ 'grpc.max_send_message_length': 256 * 1024 * 1024 });
  server.addService(TrainerService, trainerService(opts));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host}:${opts.port}`, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return { server, address: `${host}:${port}` };
}
