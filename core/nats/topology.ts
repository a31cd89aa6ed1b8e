/**
 * The names cluster mode agrees on: streams, subjects and headers shared by
 * the coordinator and the trainers. docs/cluster.md has the picture and the
 * subject permissions each side needs.
 *
 * Run ids ("study/trial/seed") may hold characters a NATS subject cannot
 * ('.', '*', '>', spaces), so a run's subject token is its id in base64url.
 */

/** Work queue of runs: one message per dispatched run, removed when a trainer acks it. */
export const RUNS_STREAM = 'CELLSWEEP_RUNS';
/** The trainers' shared durable pull consumer on RUNS_STREAM. */
export const TRAINERS_CONSUMER = 'cellsweep-trainers';
/** Results and failures, kept (limits retention) so a restarted coordinator finds what finished while it was away. */
export const EVENTS_STREAM = 'CELLSWEEP_EVENTS';
/** Runs that reached their delivery limit, kept for the operator. */
export const DEAD_LETTER_STREAM = 'CELLSWEEP_DEAD_LETTERS';
/** Each sweep's journal, one subject per sweep. */
export const JOURNAL_STREAM = 'CELLSWEEP_JOURNAL';

export const subjects = {
  runs: (sweep: string, runId: string) => `cellsweep.runs.${sweep}.${runToken(runId)}`,
  allRuns: 'cellsweep.runs.>',
  /** Results and failures (JetStream). */
  events: (sweep: string, runId: string) => `cellsweep.events.${sweep}.${runToken(runId)}`,
  sweepEvents: (sweep: string) => `cellsweep.events.${sweep}.>`,
  allEvents: 'cellsweep.events.>',
  /** Started and progress (core NATS: losing one costs nothing). */
  progress: (sweep: string, runId: string) => `cellsweep.progress.${sweep}.${runToken(runId)}`,
  sweepProgress: (sweep: string) => `cellsweep.progress.${sweep}.>`,
  /** RunStop messages to the trainers (core NATS). */
  control: (sweep: string) => `cellsweep.control.${sweep}`,
  allControl: 'cellsweep.control.>',
  deadLetter: (sweep: string) => `cellsweep.deadletter.${sweep}`,
  allDeadLetters: 'cellsweep.deadletter.>',
  journal: (sweep: string) => `cellsweep.journal.${sweep}`,
  allJournals: 'cellsweep.journal.>',
} as const;

/** Message headers on a run message. */
export const headers = {
  sweep: 'Cellsweep-Sweep',
  /** Deliveries after which the run is dead-lettered instead of trained. */
  maxDeliveries: 'Cellsweep-Max-Deliveries',
} as const;

export function runToken(runId: string): string {
  return Buffer.from(runId, 'utf8').toString('base64url');
}

export function runIdOfToken(token: string): string {
  return Buffer.from(token, 'base64url').toString('utf8');
}

/** The run id at the end of a runs/events/progress subject. */
export function runIdOfSubject(subject: string): string {
  return runIdOfToken(subject.slice(subject.lastIndexOf('.') + 1));
}

/** Sweep ids become subject tokens: letters, digits, '-' and '_' only. */
export function checkSweepToken(sweep: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(sweep)) throw new Error(`a sweep id must be 1-64 letters, digits, '-' or '_', but got '${sweep}'`);
  return sweep;
}
