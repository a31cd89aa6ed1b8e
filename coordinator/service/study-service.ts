import { timingSafeEqual } from 'node:crypto';
import { status, type Metadata, type sendUnaryData, type ServerErrorResponse, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import {
  SweepState as WireSweepState,
  type CreateSweepRequest,
  type GetBestRequest,
  type GetBestResponse,
  type GetSweepRequest,
  type ListStudiesRequest,
  type ListStudiesResponse,
  type ListSweepsRequest,
  type ListSweepsResponse,
  type ListTrialsRequest,
  type ListTrialsResponse,
  type StopSweepRequest,
  StudyServiceService,
  SweepEvent,
  type StudyServiceServer,
  type Sweep,
  type WatchSweepRequest,
} from '../../proto/gen/cellsweep/v1/study.js';
import { CellsweepError } from '../../core/errors.js';
import { parseSweep } from '../config/load-sweep.js';
import { parseSweepSpec } from '../config/sweep-spec.js';
import type { Trial } from '../study/sweep-state.js';
import type { ClusterCoordinator, SweepHandle } from './cluster-coordinator.js';
import { studyMessage, sweepMessage, sweepStateOf, trialMessage } from './messages.js';
import { decodePageToken, encodePageToken, pageOf } from './paging.js';

export interface StudyServiceOptions {
  coordinator: ClusterCoordinator;
  /** Bearer token that mutating calls (CreateSweep, StopSweep) must carry; undefined: none needed (--no-auth). */
  token: string | undefined;
  /** Relative dataset paths in a submitted sweep are resolved against this directory (as the trainers see it). */
  dataRoot: string;
  /** Largest accepted sweep file. */
  maxConfigBytes?: number;
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

class RpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The coordinator's client API (proto/cellsweep/v1/study.proto). Reads are
 * open; CreateSweep and StopSweep need `authorization: Bearer <token>`.
 * Every error is a status code with a message that names the field.
 */
export function studyService(opts: StudyServiceOptions): StudyServiceServer {
  const { coordinator } = opts;
  const sweepOf = (id: string): SweepHandle => {
    if (id === '') throw new RpcError(status.INVALID_ARGUMENT, 'sweep_id is required');
    const sweep = coordinator.get(id);
    if (sweep === undefined) throw new RpcError(status.NOT_FOUND, `no sweep with sweep_id '${id}'`);
    return sweep;
  };
  const authorize = (metadata: Metadata): void => {
    if (opts.token === undefined) return;
    const header = metadata.get('authorization')[0];
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) throw new RpcError(status.UNAUTHENTICATED, 'this call needs an authorization: Bearer <token> header');
    const given = Buffer.from(header.slice('Bearer '.length));
    const expected = Buffer.from(opts.token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new RpcError(status.UNAUTHENTICATED, 'wrong bearer token');
  };

  const broadcasts = new Broadcasts(coordinator);
  return {
    createSweep: unary(async (call: ServerUnaryCall<CreateSweepRequest, Sweep>) => {
      authorize(call.metadata);
      const { configYaml: yaml, spec } = call.request;
      if ((yaml.trim() === '') === (spec === undefined)) {
        throw new RpcError(status.INVALID_ARGUMENT, 'send the sweep as exactly one of config_yaml (the sweep file) or spec (the same as a message); docs/sweep-file.md');
      }
      const limit = opts.maxConfigBytes ?? 1024 * 1024;
      if (Buffer.byteLength(yaml) > limit) throw new RpcError(status.INVALID_ARGUMENT, `config_yaml is larger than ${limit} bytes`);
      const config = spec === undefined ? parseSweep(yaml, 'config_yaml', opts.dataRoot) : parseSweepSpec(spec, opts.dataRoot);
      return sweepMessage(await coordinator.create(config));
    }),
    getSweep: unary(async (call: ServerUnaryCall<GetSweepRequest, Sweep>) => sweepMessage(sweepOf(call.request.sweepId))),
    listSweeps: unary(async (call: ServerUnaryCall<ListSweepsRequest, ListSweepsResponse>) => {
      const { items, next } = page([coordinator.list()], call.request.pageSize, call.request.pageToken);
      return { sweeps: items.map((s) => sweepMessage(s)), nextPageToken: next };
    }),
    listStudies: unary(async (call: ServerUnaryCall<ListStudiesRequest, ListStudiesResponse>) => ({
      studies: [...sweepOf(call.request.sweepId).state.studies.values()].map(studyMessage),
    })),
    listTrials: unary(async (call: ServerUnaryCall<ListTrialsRequest, ListTrialsResponse>) => {
      const sweep = sweepOf(call.request.sweepId);
      const name = call.request.study;
      if (name !== '' && !sweep.state.studies.has(name)) throw new RpcError(status.NOT_FOUND, `sweep '${sweep.id}' has no study '${name}'`);
      const studies = [...sweep.state.studies.values()].filter((s) => name === '' || s.config.name === name);
      const { items, next } = page(
        studies.map((s) => s.trials),
        call.request.pageSize,
        call.request.pageToken,
      );
      return { trials: items.map(trialMessage), nextPageToken: next };
    }),
    watchSweep: (call: ServerWritableStream<WatchSweepRequest, SweepEvent>) => {
      let sweep: SweepHandle;
      try {
        sweep = sweepOf(call.request.sweepId);
      } catch (err) {
        call.emit('error', toServiceError(err));
        return;
      }
      const id = sweep.id;
      const finish = (): void => {
        call.write({ sweepId: id, event: { $case: 'snapshot', value: sweepMessage(sweep) } });
        call.write({ sweepId: id, event: { $case: 'finished', value: sweepStateOf(sweep) } });
        call.end();
      };
      call.write({ sweepId: id, event: { $case: 'snapshot', value: sweepMessage(sweep) } });
      if (sweepStateOf(sweep) !== WireSweepState.SWEEP_STATE_RUNNING || sweep.endedAt !== undefined) return finish();
      // A watcher that cannot keep up loses run progress (never trial changes) until its stream drains.
      let congested = false;
      call.on('drain', () => (congested = false));
      const unsubscribe = broadcasts.subscribe(
        sweep,
        (event) => {
          if (call.cancelled) return;
          if (event === 'ended') return finish();
          if (event.runProgress && (!call.request.includeRunProgress || congested)) return;
          // Already encoded (Broadcasts); the service definition's serializer passes bytes through.
          if (!call.write(event.bytes as unknown as SweepEvent)) congested = true;
        },
        call.request.includeRunProgress,
      );
      call.on('cancelled', unsubscribe);
      call.on('close', unsubscribe);
    },
    stopSweep: unary(async (call: ServerUnaryCall<StopSweepRequest, Sweep>) => {
      authorize(call.metadata);
      const sweep = sweepOf(call.request.sweepId);
      await coordinator.stop(sweep.id);
      return sweepMessage(sweep);
    }),
    getBest: unary(async (call: ServerUnaryCall<GetBestRequest, GetBestResponse>) => {
      const sweep = sweepOf(call.request.sweepId);
      return { best: [...sweep.state.studies.values()].flatMap((s) => s.progress.best ?? []).map(trialMessage) };
    }),
  };
}

/** A watch event encoded once for every watcher of the sweep. */
interface EncodedEvent {
  runProgress: boolean;
  bytes: Buffer;
}

/**
 * How long trial changes are gathered into one TrialChanges event. With 200
 * watchers, one event per trial change made the coordinator write every
 * change 200 times; a watching person or dashboard does not see 100 ms.
 */
export const WATCH_BATCH_MS = 100;

type Listener = (event: EncodedEvent | 'ended') => void;

interface SweepBroadcast {
  listeners: Set<Listener>;
  /** Watchers that asked for run progress; with none, progress is neither encoded nor sent. */
  progressWatchers: number;
  flush(): void;
  stop(): void;
}

/**
 * One subscription to the coordinator per watched sweep, shared by all its
 * watchers. Trial changes are gathered for WATCH_BATCH_MS into one event;
 * each event is encoded to protobuf once here and the same bytes are written
 * to every stream (STUDY_SERVICE_DEFINITION passes them through): with 200
 * watchers grpc-js would otherwise encode every event 200 times.
 */
class Broadcasts {
  private readonly sweeps = new Map<string, SweepBroadcast>();

  constructor(private readonly coordinator: ClusterCoordinator) {}

  subscribe(sweep: SweepHandle, listener: Listener, wantsProgress: boolean): () => void {
    const entry = this.sweeps.get(sweep.id) ?? this.open(sweep);
    // The new watcher's snapshot already shows the pending changes: they go to the earlier watchers only.
    entry.flush();
    entry.listeners.add(listener);
    if (wantsProgress) entry.progressWatchers++;
    return () => {
      if (!entry.listeners.delete(listener)) return;
      if (wantsProgress) entry.progressWatchers--;
      if (entry.listeners.size === 0 && this.sweeps.get(sweep.id) === entry) {
        entry.stop();
        this.sweeps.delete(sweep.id);
      }
    };
  }

  private open(sweep: SweepHandle): SweepBroadcast {
    const listeners = new Set<Listener>();
    const emit = (event: SweepEvent | 'ended'): void => {
      if (listeners.size === 0) return;
      const encoded = event === 'ended' ? event : { runProgress: event.event?.$case === 'run', bytes: Buffer.from(SweepEvent.encode(event).finish()) };
      for (const l of listeners) l(encoded);
    };
    // Changed trials by study and number, each sent once in its state at send time.
    const changed = new Map<string, Trial>();
    let timer: NodeJS.Timeout | undefined;
    const flush = (): void => {
      clearTimeout(timer);
      timer = undefined;
      if (changed.size === 0) return;
      const trials = [...changed.values()].map(trialMessage);
      changed.clear();
      emit({ sweepId: sweep.id, event: { $case: 'trials', value: { trials } } });
    };
    const entry: SweepBroadcast = {
      listeners,
      progressWatchers: 0,
      flush,
      stop: () => {
        clearTimeout(timer);
        unwatch();
      },
    };
    const unwatch = this.coordinator.watch(sweep.id, (change) => {
      if (change.type === 'ended') {
        flush();
        emit('ended');
        this.sweeps.delete(sweep.id);
        return;
      }
      if (change.type === 'progress') {
        if (entry.progressWatchers === 0) return;
        // Pending trial changes first: a watcher never sees a run of a trial it has not seen asked.
        flush();
        const { run, progress } = change;
        const runId = `${run.study.config.name}/${run.trial.number}/${run.seed}`;
        emit({ sweepId: sweep.id, event: { $case: 'run', value: { runId, event: { $case: 'progress', value: progress } } } });
        return;
      }
      const record = change.record;
      if (record.op !== 'trial_asked' && record.op !== 'trial_finished') return;
      const trial = sweep.state.studies.get(record.study)?.trials[record.trial];
      if (trial === undefined) return;
      changed.set(`${record.study}/${record.trial}`, trial);
      timer ??= setTimeout(flush, WATCH_BATCH_MS).unref();
    });
    this.sweeps.set(sweep.id, entry);
    return entry;
  }
}

function page<T>(lists: ReadonlyArray<readonly T[]>, pageSize: number, pageToken: string): { items: T[]; next: string } {
  if (pageSize > MAX_PAGE) throw new RpcError(status.INVALID_ARGUMENT, `page_size must be at most ${MAX_PAGE}, but got ${pageSize}`);
  const offset = decodePageToken(pageToken);
  if (offset === undefined) throw new RpcError(status.INVALID_ARGUMENT, 'page_token is not a token this service issued');
  const { items, next } = pageOf(lists, offset, pageSize === 0 ? DEFAULT_PAGE : pageSize);
  return { items, next: next === undefined ? '' : encodePageToken(next) };
}

/** A unary handler from an async function; thrown errors become status codes. */
function unary<Req, Res>(fn: (call: ServerUnaryCall<Req, Res>) => Promise<Res>): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    fn(call).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err)),
    );
  };
}

function toServiceError(err: unknown): ServerErrorResponse {
  if (err instanceof RpcError) return { name: 'RpcError', message: err.message, code: err.code, details: err.message };
  // Bad input (a sweep file that does not parse) is the caller's to fix.
  if (err instanceof CellsweepError && (err.code === 'config' || err.code === 'data')) return { name: 'ConfigError', message: err.message, code: status.INVALID_ARGUMENT, details: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { name: 'InternalError', message, code: status.INTERNAL, details: message };
}

/**
 * StudyService as generated, except that WatchSweep also accepts events
 * already encoded to protobuf (a Buffer), written as they are: Broadcasts
 * encodes each change once for all of a sweep's watchers.
 */
export const STUDY_SERVICE_DEFINITION: typeof StudyServiceService = {
  ...StudyServiceService,
  watchSweep: {
    ...StudyServiceService.watchSweep,
    responseSerialize: (value: SweepEvent | Buffer) => (Buffer.isBuffer(value) ? value : Buffer.from(SweepEvent.encode(value).finish())),
  },
};
