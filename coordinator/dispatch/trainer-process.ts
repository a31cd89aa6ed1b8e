import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { DispatchError } from '../../core/errors.js';

/** What a trainer process prints on stdout, once, when it is ready. */
export interface ListeningLine {
  event: 'listening';
  address: string;
  backend: string;
}

export interface TrainerProcessOptions {
  id: string;
  /** argv of the trainer (e.g. node bin/cellsweep.mjs trainer); `--port 0 --id <id>` are appended. */
  command: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** The trainer's stderr goes here, so a crash leaves its last words on disk. */
  logFile: string;
  startTimeoutMs?: number;
}

/** One start of the process. A restart is a new incarnation: messages about a death name the pid that died. */
export interface Incarnation {
  pid: number | undefined;
  /** Resolves with how this incarnation ended ("signal SIGKILL", "exit code 1", "spawn error: ..."). */
  exited: Promise<string>;
  /** Set once `exited` has resolved. */
  ended?: string;
  backend?: string;
}

/**
 * One local trainer process: started on an ephemeral loopback port, watched,
 * and stopped with the pool. Its exit is reported (never silent): the pool
 * decides whether to restart it.
 */
export class TrainerProcess {
  private log: WriteStream | undefined;
  private current: (Incarnation & { kill(signal: NodeJS.Signals): void }) | undefined;

  constructor(private readonly opts: TrainerProcessOptions) {}

  get id(): string {
    return this.opts.id;
  }

  get incarnation(): Incarnation | undefined {
    return this.current;
  }

  get running(): boolean {
    return this.current !== undefined && this.current.ended === undefined;
  }

  /** Resolves with the address once the trainer listens; rejects if it exits or stalls first. */
  start(): Promise<string> {
    this.log ??= createWriteStream(this.opts.logFile, { flags: 'a' });
    const [cmd, ...args] = this.opts.command;
    if (cmd === undefined) return Promise.reject(new DispatchError('empty trainer command'));
    // A trainer with NATS_URL in its environment joins a cluster's run queue instead of serving this pool.
    const env = { ...(this.opts.env ?? process.env) };
    delete env.NATS_URL;
    const child = spawn(cmd, [...args, '--port', '0', '--id', this.opts.id], {
      env,
      // stdin stays open and unused: the trainer (--exit-with-parent) exits when it closes.
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group: a Ctrl-C in the terminal reaches the coordinator only,
      // which then stops its trainers in order.
      detached: true,
    });
    let endedWith: (how: string) => void = () => undefined;
    const incarnation: Incarnation & { kill(signal: NodeJS.Signals): void } = {
      pid: child.pid,
      exited: new Promise<string>((resolve) => (endedWith = resolve)),
      kill: (signal) => void child.kill(signal),
    };
    const end = (how: string): void => {
      if (incarnation.ended !== undefined) return;
      incarnation.ended = how;
      endedWith(how);
    };
    this.current = incarnation;
    child.stderr?.pipe(this.log, { end: false });
    child.on('exit', (code, signal) => end(signal !== null ? `signal ${signal}` : `exit code ${code}`));
    // A failed spawn emits 'error' and never 'exit'.
    child.on('error', (err) => end(`spawn error: ${err.message}`));

    const timeoutMs = this.opts.startTimeoutMs ?? 60000;
    return new Promise((resolve, reject) => {
      const timeout = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new DispatchError(`trainer ${this.opts.id} did not start within ${timeoutMs} ms (log: ${this.opts.logFile})`));
      }, timeoutMs);
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timeout);
        const msg = parseListening(line);
        if (msg === undefined) {
          child.kill('SIGKILL');
          reject(new DispatchError(`trainer ${this.opts.id} printed ${JSON.stringify(line)} instead of {"event":"listening","address":...} (log: ${this.opts.logFile})`));
          return;
        }
        incarnation.backend = msg.backend;
        resolve(msg.address);
      });
      void incarnation.exited.then((how) => {
        clearTimeout(timeout);
        reject(new DispatchError(`trainer ${this.opts.id} ended (${how}) before it was ready (log: ${this.opts.logFile})`));
      });
    });
  }

  /** Signals the current incarnation, if it still runs; its exit is reported as any other. */
  kill(signal: NodeJS.Signals): void {
    if (this.current?.ended === undefined) this.current?.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    const current = this.current;
    if (current !== undefined && current.ended === undefined) {
      current.kill('SIGTERM');
      const timer = setTimeout(() => current.kill('SIGKILL'), graceMs);
      await current.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => (this.log === undefined ? resolve() : this.log.end(resolve)));
    this.log = undefined;
  }
}

function parseListening(line: string): ListeningLine | undefined {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof msg !== 'object' || msg === null) return undefined;
  const { event, address, backend } = msg as Record<string, unknown>;
  if (event !== 'listening' || typeof address !== 'string' || typeof backend !== 'string') return undefined;
  return { event, address, backend };
}
