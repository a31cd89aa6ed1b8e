import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { DispatchError } from '../../core/errors.js';

/** What a trainer process prints on stdout, once, when it is ready. */
export interface ListeningLine {
  event: 'listening';
  address: string;
  trainerId: string;
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

/**
 * One local trainer process: started on an ephemeral loopback port, watched,
 * and killed with the pool. Its exit is reported (never silent): the pool
 * decides whether to restart it.
 */
export class TrainerProcess {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private exitInfo: string | undefined;
  private readonly exitWaiters: Array<(why: string) => void> = [];
  address: string | undefined;
  backend: string | undefined;

  constructor(private readonly opts: TrainerProcessOptions) {}

  get id(): string {
    return this.opts.id;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  /** Resolves with the address once the trainer listens; rejects if it exits or stalls first. */
  start(): Promise<string> {
    this.exitInfo = undefined;
    this.log ??= createWriteStream(this.opts.logFile, { flags: 'a' });
    const [cmd, ...args] = this.opts.command;
    if (cmd === undefined) throw new DispatchError('empty trainer command');
    const child = spawn(cmd, [...args, '--port', '0', '--id', this.opts.id], {
      env: this.opts.env ?? process.env,
      // stdin stays open and unused: the trainer (--exit-with-parent) exits when it closes.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stderr?.pipe(this.log, { end: false });
    child.on('exit', (code, signal) => {
      this.exitInfo = signal !== null ? `signal ${signal}` : `exit code ${code}`;
      for (const w of this.exitWaiters.splice(0)) w(this.exitInfo);
    });
    return new Promise((resolve, reject) => {
      const timeout = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new DispatchError(`trainer ${this.opts.id} did not start within ${this.opts.startTimeoutMs ?? 60000} ms (log: ${this.opts.logFile})`));
      }, this.opts.startTimeoutMs ?? 60000);
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => {
        clearTimeout(timeout);
        try {
          const msg = JSON.parse(line) as ListeningLine;
          this.address = msg.address;
          this.backend = msg.backend;
          resolve(msg.address);
        } catch {
          reject(new DispatchError(`trainer ${this.opts.id} printed ${JSON.stringify(line)} instead of its address`));
        }
      });
      child.once('exit', () => {
        clearTimeout(timeout);
        reject(new DispatchError(`trainer ${this.opts.id} exited with ${this.exitInfo} before it was ready (log: ${this.opts.logFile})`));
      });
      child.once('error', (err) => {
        clearTimeout(timeout);
        reject(new DispatchError(`cannot start trainer ${this.opts.id}: ${err.message}`, { cause: err }));
      });
    });
  }

  /** Resolves with how the process ended (now, if it already has). */
  exited(): Promise<string> {
    if (this.exitInfo !== undefined) return Promise.resolve(this.exitInfo);
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    const child = this.child;
    if (child !== undefined && this.exitInfo === undefined) {
      const done = this.exited();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await done;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => (this.log === undefined ? resolve() : this.log.end(resolve)));
    this.log = undefined;
  }
}
