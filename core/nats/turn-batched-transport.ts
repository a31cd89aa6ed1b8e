import { NatsConnectionImpl, setTransportFactory } from '@nats-io/nats-core/internal';
import type { NatsConnection } from '@nats-io/nats-core';
import type { NodeConnectionOptions } from '@nats-io/transport-node';
// Not re-exported by the package's index; the class `connect` itself uses.
import { NodeTransport, nodeResolveHost } from '@nats-io/transport-node/lib/node_transport.js';

/**
 * nats.js's Node transport with one socket write per turn of the event loop.
 *
 * nats.js flushes its outbound buffer in a microtask after the first command
 * of a burst, and it processes what it reads in microtask chains, so a
 * process that handles many messages in one turn (a coordinator receiving
 * outcomes, a process of 64 simulated trainers) writes to the socket once
 * per message it handles. Each small write is a syscall here and a read for
 * nats-server. Corking the socket from the first write of a turn until
 * setImmediate (after this turn's I/O callbacks and their microtasks) sends
 * the whole turn's commands in one writev. No nats.js option does this; it
 * halved nats-server's CPU per run in bench/cluster (BENCHMARKS.md, issue 5).
 * Commands wait until the end of the current turn, behind any setImmediate
 * callbacks already queued: a training loop that yields with setImmediate
 * delays a heartbeat by at most one step, far inside the ack wait.
 */
class TurnBatchedTransport extends NodeTransport {
  private corked = false;

  override send(frame: Uint8Array): void {
    const socket = this.socket as typeof this.socket | undefined;
    if (!this.corked && socket !== undefined && !socket.destroyed) {
      this.corked = true;
      socket.cork();
      setImmediate(() => this.uncork(socket));
    }
    super.send(frame);
  }

  /** nats.js closes by destroying the socket, which would drop what is still corked: it leaves first. */
  override close(err?: Error): Promise<void> {
    if (this.socket !== undefined) this.uncork(this.socket);
    return super.close(err);
  }

  private uncork(socket: NonNullable<typeof this.socket>): void {
    if (!this.corked) return;
    this.corked = false;
    socket.uncork();
  }
}

/** transport-node's `connect`, with TurnBatchedTransport for every connection and reconnection. */
export function connectTurnBatched(opts: NodeConnectionOptions): Promise<NatsConnection> {
  // The factory is global in nats.js; transport-node's connect sets it the same way on every call.
  setTransportFactory({ factory: () => new TurnBatchedTransport(), dnsResolveFn: nodeResolveHost });
  return NatsConnectionImpl.connect(opts);
}
