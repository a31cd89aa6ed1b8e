import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's nats-server (`apt-get install nats-server`; .ci/run installs it). */
export const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

/**
 * A real nats-server with JetStream on loopback, for tests and benchmarks.
 * It keeps its port and store across `restart()`, so clients reconnect to the
 * same address and find the same streams.
 */
export class NatsServer {
  private child: ChildProcess | undefined;
  private log = '';
  port = 0;

  private constructor(
    readonly storeDir: string,
    private readonly configFile: string | undefined,
    private readonly env: NodeJS.ProcessEnv,
    private readonly scheme: string,
  ) {}

  /**
   * `config`: extra nats-server configuration (authorization, tls) written to
   * a file; `env`: variables the configuration refers to; `tls`: the URL
   * scheme is tls:// (the configuration has a tls block).
   */
  static async start(opts: { config?: string; env?: NodeJS.ProcessEnv; tls?: boolean } = {}): Promise<NatsServer> {
    if (!existsSync(NATS_SERVER)) throw new Error(`${NATS_SERVER} not found: install it with 'apt-get install nats-server' (.ci/run does)`);
    const dir = mkdtempSync(join(tmpdir(), 'cellsweep-nats-'));
    let configFile: string | undefined;
    if (opts.config !== undefined) {
      configFile = join(dir, 'nats.conf');
      writeFileSync(configFile, opts.config);
    }
    const server = new NatsServer(join(dir, 'store'), configFile, { ...process.env, ...opts.env }, opts.tls === true ? 'tls' : 'nats');
    await server.launch(-1);
    return server;
  }

  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Everything the server logged, for failure messages. */
  get output(): string {
    return this.log;
  }

  /**
   * SIGSTOP the server and wait until /proc shows every one of its threads stopped: the signal
   * takes effect on its own time, and a request written before it does would still be answered.
   */
  async freeze(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) throw new Error('nats-server is not running');
    process.kill(pid, 'SIGSTOP');
    for (let tries = 0; !allThreadsStopped(pid); tries++) {
      if (tries === 500) throw new Error(`nats-server (pid ${pid}) did not stop within 5 s of SIGSTOP`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  thaw(): void {
    if (this.pid !== undefined) process.kill(this.pid, 'SIGCONT');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    this.child = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch(this.port);
  }

  private launch(port: number): Promise<void> {
    const args = ['-js', '-sd', this.storeDir, '-a', '127.0.0.1', '-p', String(port)];
    if (this.configFile !== undefined) args.push('-c', this.configFile);
    const child = spawn(NATS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'], env: this.env, detached: true });
    this.child = child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not start within 10 s:\n${this.log}`)), 10_000);
      const onData = (d: Buffer): void => {
        this.log += d.toString();
        const m = /Listening for client connections on [^\s]+:(\d+)/.exec(this.log.slice(-2000));
        if (m !== null && /Server is ready/.test(this.log.slice(-4000))) {
          this.port = Number(m[1]);
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code ?? signal}) while starting:\n${this.log}`));
      });
    });
  }
}

/** Linux's state letter for a stopped thread is 'T' (or 't' when stopped by a tracer). */
function allThreadsStopped(pid: number): boolean {
  const tasks = readdirSync(`/proc/${pid}/task`);
  return tasks.every((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'T' || state === 't';
  });
}
