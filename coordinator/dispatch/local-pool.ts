import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import type { RunSpec } from '../../proto/gen/cellsweep/v1/run.js';
import { DispatchError, InterruptedError } from '../../core/errors.js';
import type { DispatchHooks, DispatchOutcome, Dispatcher } from './dispatcher.js';
import { DEFAULT_HANG_TIMEOUT_MS, TrainerEndpoint, TransportError } from './trainer-client.js';
import { TrainerProcess } from './trainer-process.js';

export interface LocalPoolOptions {
  trainers: number;
  /** argv that starts one trainer process (see TrainerProcess). */
  command: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Trainer logs go to <logDir>/<trainer id>.log. */
  logDir: string;
  /** Deliveries of one run before it fails for good (a run that kills every trainer it meets). */
  maxAttempts?: number;
  /** A trainer that leaves a keepalive ping unanswered this long during a run is killed as hung (default 60 s). */
  hangTimeoutMs?: number;
  /** Consecutive failed restarts after which a trainer slot is given up. */
  maxRestarts?: number;
  onEvent?: (event: PoolEvent) => void;
}

export type PoolEvent =
  | { type: 'trainer_exit'; trainer: string; pid: number | undefined; how: string; during?: string }
  | { type: 'trainer_hung'; trainer: string; pid: number | undefined; during: string; timeoutMs: number }
  | { type: 'trainer_restarted'; trainer: string; pid: number | undefined }
  | { type: 'trainer_given_up'; trainer: string; error: string }
  | { type: 'run_retry'; runId: string; attempt: number; error: string };

interface Slot {
  process: TrainerProcess;
  endpoint: TrainerEndpoint | undefined;
  busy: boolean;
  /** What the slot is running, for exit messages. */
  runId?: string;
  dead: boolean;
}

/**
 * The local-mode dispatcher: N trainer processes on loopback, one run each
 * at a time, over the gRPC `Trainer` service. A trainer that exits is
 * reported and restarted; the run it held is delivered again (up to
 * `maxAttempts` times) and otherwise fails with the reason.
 */
export class LocalTrainerPool implements Dispatcher {
  private readonly slots: Slot[];
  private readonly waiters: Array<{ resolve: (s: Slot) => void; reject: (e: Error) => void }> = [];
  private closing = false;

  private constructor(private readonly opts: LocalPoolOptions) {
    this.slots = Array.from({ length: opts.trainers }, (_, i) => ({
      process: new TrainerProcess({
        id: `t${i + 1}`,
        command: opts.command,
        logFile: join(opts.logDir, `t${i + 1}.log`),
        ...(opts.env === undefined ? {} : { env: opts.env }),
      }),
      endpoint: undefined,
      busy: false,
      dead: false,
    }));
  }

  static async start(opts: LocalPoolOptions): Promise<LocalTrainerPool> {
    if (!(opts.trainers >= 1)) throw new DispatchError(`expected at least 1 trainer, but got ${opts.trainers}`);
    const pool = new LocalTrainerPool(opts);
    try {
      await Promise.all(pool.slots.map((slot) => pool.launch(slot)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  private get hangTimeoutMs(): number {
    return this.opts.hangTimeoutMs ?? DEFAULT_HANG_TIMEOUT_MS;
  }

  get capacity(): number {
    return this.slots.filter((s) => !s.dead).length;
  }

  /** pids of the live trainer processes (for tests and status lines). */
  pids(): number[] {
    return this.slots.flatMap((s) => (s.process.running && s.process.incarnation?.pid !== undefined ? [s.process.incarnation.pid] : []));
  }

  backends(): string[] {
    return [...new Set(this.slots.flatMap((s) => (s.process.incarnation?.backend === undefined ? [] : [s.process.incarnation.backend])))];
  }

  async run(spec: RunSpec, hooks: DispatchHooks): Promise<DispatchOutcome> {
    const maxAttempts = this.opts.maxAttempts ?? 3;
    let lastError = '';
    let previous: Slot | undefined;
    let busyRetries = 0;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const slot = await this.acquire(hooks.signal, previous);
      previous = slot;
      slot.runId = spec.runId;
      // Captured now: if the process dies, the pool restarts it, and the message must name the pid that died.
      const incarnation = slot.process.incarnation;
      try {
        const endpoint = slot.endpoint;
        if (endpoint === undefined || incarnation === undefined) throw new TransportError(`trainer ${slot.process.id} has no endpoint`);
        hooks.onStart(slot.process.id, attempt);
        const outcome = await endpoint.train(spec, hooks.signal, hooks.onProgress);
        this.release(slot);
        return outcome;
      } catch (err) {
        if (err instanceof InterruptedError || !(err instanceof TransportError)) {
          this.release(slot);
          throw err;
        }
        if (err.grpcCode === status.RESOURCE_EXHAUSTED && busyRetries < MAX_BUSY_RETRIES) {
          // The trainer is still finishing a cancelled run: not a failed delivery, try again shortly.
          busyRetries++;
          attempt--;
          this.release(slot);
          await sleep(BUSY_RETRY_MS);
          continue;
        }
        // A broken call usually means the process died: wait briefly for its
        // exit so the slot is not handed out again before it restarts.
        const how = incarnation === undefined ? undefined : await Promise.race([incarnation.exited, sleep(1000).then(() => undefined)]);
        lastError = how === undefined ? err.message : `trainer ${slot.process.id} (pid ${incarnation?.pid}) exited with ${how} during the run`;
        if (how === undefined && incarnation !== undefined && err.grpcCode === status.UNAVAILABLE) {
          // Alive but the connection dropped: on loopback that is a trainer that
          // answered no keepalive ping. It would take the next run and hang on it
          // too, so it is killed (SIGKILL reaches a stopped process) and restarted.
          const timeoutMs = this.hangTimeoutMs;
          this.opts.onEvent?.({ type: 'trainer_hung', trainer: slot.process.id, pid: incarnation.pid, during: spec.runId, timeoutMs });
          slot.process.kill('SIGKILL');
          await incarnation.exited;
          lastError = `trainer ${slot.process.id} (pid ${incarnation.pid}) answered no keepalive ping for ${timeoutMs / 1000} s during the run and was killed`;
        }
        this.release(slot);
        if (attempt < maxAttempts) this.opts.onEvent?.({ type: 'run_retry', runId: spec.runId, attempt: attempt + 1, error: lastError });
      }
    }
    return { failure: { reason: `no result after ${maxAttempts} deliveries; last: ${lastError}`, code: 'trainer_exit', epoch: 0, backend: '', trainerId: '' } };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const w of this.waiters.splice(0)) w.reject(new InterruptedError('the trainer pool is closing'));
    for (const slot of this.slots) slot.endpoint?.close();
    await Promise.all(this.slots.map((s) => s.process.stop()));
  }

  private async launch(slot: Slot): Promise<void> {
    const address = await slot.process.start();
    slot.endpoint = new TrainerEndpoint(address, this.hangTimeoutMs);
    void this.watch(slot);
  }

  /** Every exit is reported; unless the pool is closing, the trainer is restarted. */
  private async watch(slot: Slot): Promise<void> {
    const incarnation = slot.process.incarnation;
    if (incarnation === undefined) return;
    const how = await incarnation.exited;
    if (this.closing) return;
    this.opts.onEvent?.({
      type: 'trainer_exit',
      trainer: slot.process.id,
      pid: incarnation.pid,
      how,
      ...(slot.busy && slot.runId !== undefined ? { during: slot.runId } : {}),
    });
    slot.endpoint?.close();
    slot.endpoint = undefined;
    const maxRestarts = this.opts.maxRestarts ?? 3;
    for (let i = 1; i <= maxRestarts && !this.closing; i++) {
      try {
        await this.launch(slot);
        this.opts.onEvent?.({ type: 'trainer_restarted', trainer: slot.process.id, pid: slot.process.incarnation?.pid });
        this.wake();
        return;
      } catch (err) {
        if (i === maxRestarts) {
          slot.dead = true;
          this.opts.onEvent?.({ type: 'trainer_given_up', trainer: slot.process.id, error: (err as Error).message });
          if (this.slots.every((s) => s.dead)) {
            for (const w of this.waiters.splice(0)) w.reject(new DispatchError('every trainer process failed to restart; see the trainer logs'));
          }
          return;
        }
        await sleep(250 * i);
      }
    }
  }

  /** A free slot, other than `avoid` when another is free (a retry should meet another trainer). */
  private acquire(signal: AbortSignal, avoid?: Slot): Promise<Slot> {
    if (signal.aborted) return Promise.reject(new InterruptedError('run cancelled before it started'));
    if (this.closing) return Promise.reject(new InterruptedError('the trainer pool is closing'));
    const free = this.freeSlot(avoid);
    if (free !== undefined) {
      free.busy = true;
      return Promise.resolve(free);
    }
    if (this.slots.every((s) => s.dead)) return Promise.reject(new DispatchError('no trainer process is alive'));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (s: Slot) => {
          signal.removeEventListener('abort', onAbort);
          resolve(s);
        },
        reject,
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new InterruptedError('run cancelled before it started'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private release(slot: Slot): void {
    slot.busy = false;
    delete slot.runId;
    this.wake();
  }

  private wake(): void {
    for (;;) {
      const slot = this.freeSlot();
      const waiter = slot === undefined ? undefined : this.waiters.shift();
      if (slot === undefined || waiter === undefined) return;
      slot.busy = true;
      waiter.resolve(slot);
    }
  }

  private freeSlot(avoid?: Slot): Slot | undefined {
    const free = this.slots.filter((s) => !s.busy && !s.dead && s.endpoint !== undefined && s.process.running);
    return free.find((s) => s !== avoid) ?? free[0];
  }
}

/** How long and how often a run waits for a trainer that is still stopping a cancelled run. */
const BUSY_RETRY_MS = 200;
const MAX_BUSY_RETRIES = 300;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
