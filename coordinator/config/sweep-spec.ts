import { stringify } from 'yaml';
import type { StudySpec, SweepSpec } from '../../proto/gen/cellsweep/v1/study.js';
import { ConfigError } from '../../core/errors.js';
import { fromWireParams } from '../../core/params.js';
import { parseSweep } from './load-sweep.js';
import type { SweepConfig } from './sweep-config.js';

const WHERE = 'CreateSweepRequest.spec';

/**
 * A sweep given as a message (StudyService.CreateSweep) becomes the sweep
 * file it stands for and goes through the very checks of a YAML file, so the
 * two forms cannot drift apart. Unset fields are left out, as an absent key
 * would be; errors name the message field (`spec`, field `studies[0].dataset`).
 */
export function parseSweepSpec(spec: SweepSpec, baseDir: string): SweepConfig {
  const document = { ...common(spec, ''), ...(spec.trainers === undefined ? {} : { trainers: spec.trainers }), studies: spec.studies.map((study, i) => studyDocument(study, `studies[${i}].`)) };
  try {
    return { ...parseSweep(stringify(document), 'sweep', baseDir), source: WHERE };
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.detail, { file: WHERE, ...(err.place.field === undefined ? {} : { field: err.place.field }) }, { cause: err });
    throw err;
  }
}

function studyDocument(study: StudySpec, field: string): Record<string, unknown> {
  return { ...(study.dataset === '' ? {} : { dataset: study.dataset }), ...common(study, field) };
}

/** The keys a sweep and a study share, set ones only. */
function common(s: SweepSpec | StudySpec, field: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (s.name !== '') out.name = s.name;
  if (s.model !== '') out.model = s.model;
  if (s.sampler !== '') out.sampler = s.sampler;
  if (s.samplerOptions !== undefined) out.sampler_options = s.samplerOptions;
  if (s.pruner !== undefined) out.pruner = s.pruner;
  if (s.seed !== undefined) out.seed = s.seed;
  if (s.trials !== undefined) out.trials = s.trials;
  if (s.seeds.length > 0) out.seeds = s.seeds;
  if (s.space !== undefined && s.space !== null) out.space = s.space;
  if (Object.keys(s.fixed).length > 0) {
    try {
      out.fixed = fromWireParams(s.fixed);
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(err.detail, { file: WHERE, field: `${field}fixed.${err.place.field}` });
      throw err;
    }
  }
  return out;
}
