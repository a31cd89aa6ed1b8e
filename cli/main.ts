import { CellsweepError, ErrorCode } from '../core/errors.js';
import { HelpRequested } from './args.js';

const USAGE = `cellsweep: hyperparameter sweeps for single-cell drug-response transfer models

Usage:
  cellsweep sweep [FILE] [--out DIR] [--trainers N] [--backend B]   run a sweep (no FILE: the embedded demo)
  cellsweep sweep --resume DIR                                      continue a stopped or killed sweep
  cellsweep report DIR [--all-trials]                               print the summary of a sweep directory
  cellsweep followup DIR                                            write a sweep re-running each best configuration (robustness, ablation)
  cellsweep train --dataset DIR [--model M] [--seed S] [--set k=v]  one training run, for debugging
  cellsweep datasets synth --shape data1 --out DIR [--genes N] [--seed S]
  cellsweep datasets check DIR                                      load and preprocess a dataset, report it
  cellsweep trainer [--port P] [--host H] [--id ID] [--backend B]  serve the gRPC Trainer service
  cellsweep trainer --nats URL [--id ID] [--backend B]              cluster mode: take runs from NATS JetStream
  cellsweep coordinator --nats URL --listen ADDR --token-file F     cluster mode: serve StudyService (docs/cluster.md)
  cellsweep sweep FILE --coordinator ADDR [--token-file F]          submit a sweep to a coordinator and watch it
  cellsweep ask-tell --state FILE [--space S] [--sampler tpe]       drive a sampler over JSON lines (stdin/stdout)
  cellsweep ask --state FILE [--n K] | tell --state FILE --trial N --value V   one ask or tell

Backends (--backend or CELLSWEEP_BACKEND): auto (default), tensorflow, wasm, cpu.
Docs: README.md, docs/sweep-file.md, docs/datasets.md, docs/architecture.md`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  sweep: async () => (await import('./commands/sweep.js')).sweepCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
  followup: async () => (await import('./commands/followup.js')).followupCommand,
  train: async () => (await import('./commands/train.js')).trainCommand,
  datasets: async () => (await import('./commands/datasets.js')).datasetsCommand,
  trainer: async () => (await import('./commands/trainer.js')).trainerCommand,
  coordinator: async () => (await import('./commands/coordinator.js')).coordinatorCommand,
  'ask-tell': async () => (await import('./commands/ask-tell.js')).askTellCommand,
  ask: async () => (await import('./commands/ask-tell.js')).askCommand,
  tell: async () => (await import('./commands/ask-tell.js')).tellCommand,
};

/** Exit codes: 0 done, 1 unexpected failure, 2 bad input (nothing was trained), 130 stopped by Ctrl-C. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE + '\n');
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    process.stderr.write(`cellsweep: unknown command '${name}'\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(err.usage + '\n');
      return 0;
    }
    if (err instanceof CellsweepError) {
      process.stderr.write(`cellsweep ${name}: ${err.message}\n`);
      return err.code === ErrorCode.Interrupted ? 130 : err.code === ErrorCode.Config || err.code === ErrorCode.Data ? 2 : 1;
    }
    process.stderr.write(`cellsweep ${name}: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
