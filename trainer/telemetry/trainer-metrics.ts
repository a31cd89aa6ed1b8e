import * as tf from '@tensorflow/tfjs-core';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** How a run left this trainer. */
export type TrainerRunOutcome = 'finished' | 'failed' | 'cancelled' | 'handed_back' | 'dead_lettered';

/**
 * What a trainer reports to Prometheus. Busy time is a counter, not a ratio:
 * `rate(cellsweep_trainer_busy_seconds_total[5m])` is the busy ratio over
 * any window, for one trainer or averaged over the pool, and it stays right
 * however often (or by how many Prometheus servers) it is scraped.
 */
export class TrainerMetrics {
  private readonly busySeconds: Counter;
  private readonly busy: Gauge;
  private readonly runs: Counter<'model' | 'outcome'>;
  private readonly epochSeconds: Histogram<'model'>;
  private readonly queueWait: Histogram;
  /** When the current run began, or when busy time was last counted; undefined while idle. */
  private busySince: number | undefined;
  private epochStart: number | undefined;

  constructor(registry: Registry, info: { trainerId: string; backend: string }) {
    const self = this;
    this.busySeconds = new Counter({
      name: 'cellsweep_trainer_busy_seconds_total',
      help: 'Seconds this trainer spent holding a run (loading data, training, scoring).',
      registers: [registry],
      collect() {
        // Count the run in progress up to now, so a long run shows as busy before it ends.
        self.accountBusy();
      },
    });
    this.busy = new Gauge({ name: 'cellsweep_trainer_busy', help: '1 while this trainer holds a run, else 0.', registers: [registry] });
    this.busy.set(0);
    this.runs = new Counter({
      name: 'cellsweep_trainer_runs_total',
      help: 'Runs this trainer took, by how they ended (finished, failed, cancelled, handed_back, dead_lettered).',
      labelNames: ['model', 'outcome'],
      registers: [registry],
    });
    this.epochSeconds = new Histogram({
      name: 'cellsweep_epoch_duration_seconds',
      help: 'Wall time of one training epoch.',
      labelNames: ['model'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
    this.queueWait = new Histogram({
      name: 'cellsweep_run_queue_wait_seconds',
      help: 'Time from a run being queued to this trainer taking it.',
      buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 7200],
      registers: [registry],
    });
    new Gauge({
      name: 'cellsweep_trainer_backend_info',
      help: 'The TensorFlow.js backend this trainer trains on (value 1, the backend in the label).',
      labelNames: ['backend', 'trainer_id'],
      registers: [registry],
    }).set({ backend: info.backend, trainer_id: info.trainerId }, 1);
    new Gauge({
      name: 'cellsweep_tfjs_memory_bytes',
      help: 'Bytes held by TensorFlow.js tensors (tf.memory().numBytes).',
      registers: [registry],
      collect() {
        this.set(tf.memory().numBytes);
      },
    });
    new Gauge({
      name: 'cellsweep_tfjs_tensors',
      help: 'Live TensorFlow.js tensors (tf.memory().numTensors); a count that only grows is a leak.',
      registers: [registry],
      collect() {
        this.set(tf.memory().numTensors);
      },
    });
  }

  runTaken(queuedMs: number): void {
    this.queueWait.observe(Math.max(0, queuedMs) / 1000);
    this.busySince = performance.now();
    this.epochStart = undefined;
    this.busy.set(1);
  }

  /** The dataset is loaded: epochs are timed from here. */
  trainingStarted(): void {
    this.epochStart = performance.now();
  }

  epochEnded(model: string): void {
    const now = performance.now();
    if (this.epochStart !== undefined) this.epochSeconds.observe({ model }, (now - this.epochStart) / 1000);
    this.epochStart = now;
  }

  runEnded(model: string, outcome: TrainerRunOutcome): void {
    this.accountBusy();
    this.busySince = undefined;
    this.epochStart = undefined;
    this.busy.set(0);
    this.runs.inc({ model, outcome });
  }

  /** A run this trainer did not train (dead-lettered, or stopped before it began). */
  runRefused(model: string, outcome: TrainerRunOutcome): void {
    this.runs.inc({ model, outcome });
  }

  private accountBusy(): void {
    if (this.busySince === undefined) return;
    const now = performance.now();
    this.busySeconds.inc((now - this.busySince) / 1000);
    this.busySince = now;
  }
}
