import { credentials, type ServiceError } from '@grpc/grpc-js';
import { TrainerClient } from '../../proto/gen/cellsweep/v1/trainer.js';
import type { RunEvent, RunProgress, RunSpec } from '../../proto/gen/cellsweep/v1/run.js';
import { InterruptedError } from '../../core/errors.js';
import type { DispatchOutcome } from './dispatcher.js';

/** As the cluster's default ack wait: how long a silent trainer keeps its run. */
export const DEFAULT_HANG_TIMEOUT_MS = 60_000;
const KEEPALIVE_INTERVAL_MS = 10_000;

/** The call reached no conclusion: the trainer vanished, or the stream broke. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly grpcCode?: number,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/**
 * One trainer's gRPC endpoint. `train` streams one run and resolves with its
 * result or training failure; a broken call rejects with TransportError so
 * the pool can retry elsewhere, and an aborted one with InterruptedError.
 */
export class TrainerEndpoint {
  private readonly client: TrainerClient;

  /**
   * `hangTimeoutMs`: while a run streams, the channel pings the trainer
   * (HTTP/2 keepalive) and drops the call with UNAVAILABLE when a ping goes
   * unanswered this long. A trainer whose event loop is stuck (stopped, a
   * hung driver call) answers no pings, whereas a long epoch still does:
   * the training loop yields after every step.
   */
  constructor(
    readonly address: string,
    hangTimeoutMs = DEFAULT_HANG_TIMEOUT_MS,
  ) {
    this.client = new TrainerClient(address, credentials.createInsecure(), {
      // Interpretability results carry a transport plan (bulk x cells float32).
      'grpc.max_receive_message_length': 256 * 1024 * 1024,
      'grpc.keepalive_time_ms': Math.min(KEEPALIVE_INTERVAL_MS, hangTimeoutMs),
      'grpc.keepalive_timeout_ms': hangTimeoutMs,
    });
  }

  train(spec: RunSpec, signal: AbortSignal, onProgress: (p: RunProgress) => void): Promise<DispatchOutcome> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new InterruptedError('run cancelled before it started'));
      const call = this.client.run({ spec });
      let outcome: DispatchOutcome | undefined;
      const onAbort = (): void => call.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
      call.on('data', (event: RunEvent) => {
        switch (event.event?.$case) {
          case 'progress':
            onProgress(event.event.value);
            return;
          case 'result':
            outcome = { result: event.event.value };
            return;
          case 'failure':
            outcome = { failure: event.event.value };
            return;
        }
      });
      call.on('error', (err: ServiceError) => {
        signal.removeEventListener('abort', onAbort);
        if (outcome !== undefined) return resolve(outcome);
        // Only our own abort is a cancellation; a CANCELLED from the other side
        // (a trainer shutting down) is a delivery failure to be retried.
        if (signal.aborted) return reject(new InterruptedError('run cancelled'));
        reject(new TransportError(`trainer at ${this.address}: ${err.details || err.message}`, err.code));
      });
      call.on('end', () => {
        signal.removeEventListener('abort', onAbort);
        if (outcome !== undefined) resolve(outcome);
        else if (signal.aborted) reject(new InterruptedError('run cancelled'));
        else reject(new TransportError(`trainer at ${this.address} ended the run without a result`));
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
