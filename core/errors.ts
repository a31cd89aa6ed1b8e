/**
 * One error base for the whole product. Every failure a user can meet carries a
 * stable code and, where it comes from input, the place: file, line, field.
 * The CLI prints `message` alone and exits non-zero, so the message must say
 * what was expected and what was found.
 */
export const ErrorCode = {
  Config: 'config',
  Data: 'data',
  Training: 'training',
  Journal: 'journal',
  Dispatch: 'dispatch',
  Interrupted: 'interrupted',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorPlace {
  file?: string;
  /** 1-based line number in `file`. */
  line?: number;
  /** Dotted path of the offending field ("space.l1.low") or a column name. */
  field?: string;
}

export class CellsweepError extends Error {
  readonly code: ErrorCode;
  readonly place: ErrorPlace;
  /** The message without its place. */
  readonly detail: string;

  constructor(code: ErrorCode, detail: string, place: ErrorPlace = {}, options?: { cause?: unknown }) {
    super(formatMessage(detail, place), options);
    this.name = new.target.name;
    this.code = code;
    this.place = place;
    this.detail = detail;
  }
}

/** Invalid sweep file, search space or model configuration. */
export class ConfigError extends CellsweepError {
  constructor(detail: string, place: ErrorPlace = {}, options?: { cause?: unknown }) {
    super(ErrorCode.Config, detail, place, options);
  }
}

/** Missing, unreadable or malformed dataset files. */
export class DataError extends CellsweepError {
  constructor(detail: string, place: ErrorPlace = {}, options?: { cause?: unknown }) {
    super(ErrorCode.Data, detail, place, options);
  }
}

/** A training run that cannot go on (a non-finite loss, for instance). */
export class TrainingError extends CellsweepError {
  readonly epoch: number;
  /** The loss term that went non-finite, when that is the cause. */
  readonly term: string | undefined;
  readonly failureCode: string;

  constructor(detail: string, opts: { epoch: number; term?: string; failureCode?: string }) {
    super(ErrorCode.Training, detail);
    this.epoch = opts.epoch;
    this.term = opts.term;
    this.failureCode = opts.failureCode ?? 'training';
  }
}

export class JournalError extends CellsweepError {
  constructor(detail: string, place: ErrorPlace = {}, options?: { cause?: unknown }) {
    super(ErrorCode.Journal, detail, place, options);
  }
}

/** The run could not be delivered to or finished by a trainer. */
export class DispatchError extends CellsweepError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(ErrorCode.Dispatch, detail, {}, options);
  }
}

/** The run or sweep was stopped on purpose (Ctrl-C, a pruner, StopSweep). */
export class InterruptedError extends CellsweepError {
  constructor(detail = 'interrupted') {
    super(ErrorCode.Interrupted, detail);
  }
}

function formatMessage(detail: string, place: ErrorPlace): string {
  const where: string[] = [];
  if (place.file !== undefined) where.push(place.line !== undefined ? `${place.file}:${place.line}` : place.file);
  if (place.field !== undefined) where.push(`field '${place.field}'`);
  return where.length > 0 ? `${where.join(', ')}: ${detail}` : detail;
}

/** "expected X, but got Y" with the value shown as the user wrote it. */
export function expected(what: string, got: unknown): string {
  return `expected ${what}, but got ${describe(got)}`;
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return `a list (${JSON.stringify(value)})`;
  return `a mapping (${JSON.stringify(value)})`;
}
