import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Calls `attempt` until it resolves. Between tries it waits 100 ms, then
 * twice as long each time up to 2 s: a restarting nats-server is back in
 * seconds, and a faster loop would only add load while it starts.
 * `onFailure` sees every error; it throws (or rejects) to give up.
 *
 * Used for every JetStream publish that must not be lost: a trainer's
 * outcome, a dispatched run, a journal append. Their publishes carry a
 * message id, so a retry of a publish that was stored after all is stored once.
 */
export async function retryUntilDone<T>(attempt: () => Promise<T>, onFailure: (err: Error) => void | Promise<void>): Promise<T> {
  for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
    try {
      return await attempt();
    } catch (err) {
      await onFailure(err as Error);
      await sleep(wait);
    }
  }
}
