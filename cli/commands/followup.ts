import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-file.js';
import { ConfigError, expected } from '../../core/errors.js';
import { readSweepDir } from '../../coordinator/journal/sweep-dir.js';
import { checkFollowupOptions, FOLLOWUP_DEFAULTS, followupSweep } from '../../coordinator/report/followup.js';
import { intOption, parseCommand } from '../args.js';

const USAGE = `Usage: cellsweep followup DIR [--out FILE] [--seeds 20] [--subsamples 20] [--fraction 0.8] [--seed 0] [--force]

Writes a sweep file (default DIR/followup.yaml) that re-runs each study's best
configuration as the SCTL paper checks it: with fresh seeds, on random shares
of the target cells, and with l1 = 0 / l2 = 0 (ablation). Run it with
cellsweep sweep, then read it with cellsweep report --all-trials.`;

export async function followupCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    {
      out: { type: 'string' },
      seeds: { type: 'string' },
      subsamples: { type: 'string' },
      fraction: { type: 'string' },
      seed: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (positionals.length !== 1) throw new ConfigError(`expected one sweep directory\n\n${USAGE}`);
  const dir = resolve(positionals[0]!);
  const fraction = values.fraction === undefined ? FOLLOWUP_DEFAULTS.fraction : Number(values.fraction);
  if (values.fraction !== undefined && !Number.isFinite(fraction)) throw new ConfigError(expected('a number', values.fraction), { field: '--fraction' });
  const opts = {
    seeds: intOption(values.seeds, 'seeds', 1) ?? FOLLOWUP_DEFAULTS.seeds,
    subsamples: intOption(values.subsamples, 'subsamples', 2) ?? FOLLOWUP_DEFAULTS.subsamples,
    fraction,
    seed: intOption(values.seed, 'seed', 0) ?? FOLLOWUP_DEFAULTS.seed,
  };
  checkFollowupOptions(opts);
  const { yaml, studies, runs, skipped } = followupSweep(await readSweepDir(dir), opts);
  const file = resolve(values.out ?? join(dir, 'followup.yaml'));
  if (existsSync(file) && !values.force) throw new ConfigError('the file exists; pass --force to replace it', { file });
  await writeFileAtomic(file, yaml);
  for (const line of skipped) process.stderr.write(`skipped ${line}\n`);
  const out = join(dir, 'followup');
  const shown = (p: string): string => relative(process.cwd(), p) || '.';
  process.stdout.write(
    `wrote ${shown(file)}: ${studies} studies, ${runs} runs\n` +
      `run it:   cellsweep sweep ${shown(file)} --out ${shown(out)}\n` +
      `read it:  cellsweep report ${shown(out)} --all-trials\n`,
  );
  return 0;
}
