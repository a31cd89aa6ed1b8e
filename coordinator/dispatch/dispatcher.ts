import type { RunFailure, RunProgress, RunResult, RunSpec } from '../../proto/gen/cellsweep/v1/run.js';

export type DispatchOutcome = { result: RunResult; failure?: undefined } | { failure: RunFailure; result?: undefined };

export interface DispatchHooks {
  /** Aborting stops the run; `run()` then rejects with InterruptedError and nothing is recorded. */
  signal: AbortSignal;
  /** A trainer took the run (again, on a retry). */
  onStart(trainer: string, attempt: number): void;
  onProgress(progress: RunProgress): void;
  /**
   * The run was in flight when an earlier coordinator stopped: it may have
   * been dispatched already. A dispatcher that can (NATS) looks for its
   * outcome or queued message before sending it again.
   */
  resumed?: boolean;
}

/**
 * Sends runs to trainers and reports how each ended. Two implementations
 * share this contract: local gRPC trainer processes (local-pool.ts) and, in
 * cluster mode, a NATS JetStream work queue.
 *
 * A run either resolves with its result, or with a failure that says why
 * (training failures from the trainer, delivery failures from the
 * dispatcher after its bounded retries); it never resolves twice.
 */
export interface Dispatcher {
  /** How many runs can train at once. */
  readonly capacity: number;
  run(spec: RunSpec, hooks: DispatchHooks): Promise<DispatchOutcome>;
  /**
   * From now on a cancelled run is only forgotten, not withdrawn from the
   * trainers: whoever resumes the sweep picks it up. Only a dispatcher whose
   * runs outlive the coordinator (NATS) has it.
   */
  detach?(): void;
  close(): Promise<void>;
}
