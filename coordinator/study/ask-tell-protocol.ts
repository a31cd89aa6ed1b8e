import { CellsweepError } from '../../core/errors.js';
import type { AskTellLog } from './ask-tell-log.js';
import type { TellOutcome } from './ask-tell.js';

/**
 * The JSON-lines protocol of `cellsweep ask-tell`: one request per line on
 * stdin, one response per line on stdout, in order.
 *
 *   {"op":"ask"}                                  -> {"trial":0,"params":{...}}   ({"trial":null,"exhausted":true} when done)
 *   {"op":"ask","n":4}                            -> {"trials":[{"trial":1,"params":{...}}, ...]}
 *   {"op":"tell","trial":0,"value":0.83}          -> {"ok":true,"trial":0}
 *   {"op":"tell","trial":1,"state":"FAIL"}        (or "PRUNED" with "intermediate":[...])
 *   {"op":"best"}                                 -> {"trial":0,"params":{...},"value":0.83} or {"trial":null}
 *   {"op":"trials"}                               -> {"trials":[{"trial":0,"state":"COMPLETE",...}, ...]}
 *
 * A bad request gets {"error":"...","line":N} and changes nothing; the
 * session goes on.
 */
export async function handleRequest(log: AskTellLog, text: string, line: number): Promise<object> {
  let request: Record<string, unknown>;
  try {
    request = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { error: `line ${line}: not JSON: ${JSON.stringify(text.slice(0, 80))}`, line };
  }
  if (request === null || typeof request !== 'object' || Array.isArray(request)) return { error: `line ${line}: expected a JSON object`, line };
  try {
    switch (request.op) {
      case 'ask': {
        const n = request.n;
        const batch = await log.ask(n === undefined ? 1 : (n as number));
        if (n !== undefined) return { trials: batch };
        return batch[0] ?? { trial: null, exhausted: true };
      }
      case 'tell': {
        const outcome = outcomeOf(request);
        await log.tell(request.trial as number, outcome);
        return { ok: true, trial: request.trial };
      }
      case 'best':
        return log.study.best() ?? { trial: null };
      case 'trials':
        return { trials: log.study.trials() };
      default:
        return { error: `line ${line}: expected op ask, tell, best or trials, but got ${JSON.stringify(request.op)}`, line };
    }
  } catch (err) {
    if (err instanceof CellsweepError) return { error: `line ${line}: ${err.message}`, line };
    throw err;
  }
}

function outcomeOf(request: Record<string, unknown>): TellOutcome {
  const state = request.state ?? 'COMPLETE';
  if (state === 'COMPLETE') return { state, value: request.value as number };
  if (state === 'PRUNED') return { state, ...(request.intermediate === undefined ? {} : { intermediate: request.intermediate as number[] }) };
  if (state === 'FAIL') return { state, ...(typeof request.reason === 'string' ? { reason: request.reason } : {}) };
  return { state } as unknown as TellOutcome;
}
