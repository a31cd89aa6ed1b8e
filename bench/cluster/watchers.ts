/**
 * The watchers of the cluster benchmark, in a process of their own as they
 * would be on their own machines: --count WatchSweep streams on one sweep
 * (over one gRPC channel), counting events until the coordinator ends them.
 * Prints {"event":"watching"} once the streams are open and
 * {"event":"ended","events":N,"errors":E} when every stream has ended.
 *
 *   node --import tsx bench/cluster/watchers.ts --address HOST:PORT --sweep ID --count 200
 */
import { parseArgs } from 'node:util';
import type { SweepEvent } from '../../proto/gen/cellsweep/v1/study.js';
import { studyClient } from '../../cli/study-client.js';

const { values } = parseArgs({ options: { address: { type: 'string' }, sweep: { type: 'string' }, count: { type: 'string', default: '200' } } });
if (values.address === undefined || values.sweep === undefined) throw new Error('usage: watchers.ts --address HOST:PORT --sweep ID [--count N]');
const { client } = studyClient({ address: values.address });
let events = 0;
let errors = 0;
const ended = Array.from({ length: Number(values.count) }, () => {
  const stream = client.watchSweep({ sweepId: values.sweep!, includeRunProgress: false });
  stream.on('data', (_e: SweepEvent) => events++);
  return new Promise<void>((resolve) => {
    stream.on('error', () => {
      errors++;
      resolve();
    });
    stream.on('end', resolve);
  });
});
process.stdout.write(JSON.stringify({ event: 'watching' }) + '\n');
await Promise.all(ended);
process.stdout.write(JSON.stringify({ event: 'ended', events, errors }) + '\n');
client.close();
process.exit(0);
