/**
 * A process that contends for journal locks (journal-lock.test.ts): on
 * "open PATH" it tries FileJournal.open and answers "won" or "lost
 * <message>"; on "close" it lets go of what it holds and answers "closed".
 *
 * With --no-hard-links, link(2) fails with EPERM in this process, as it does
 * on exFAT and some SMB mounts, so the lock is made the other way.
 */
import fsPromises from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { createInterface } from 'node:readline';

if (process.argv.includes('--no-hard-links')) {
  fsPromises.link = async (existing, target) => {
    throw Object.assign(new Error(`EPERM: operation not permitted, link '${String(existing)}' -> '${String(target)}'`), { code: 'EPERM', syscall: 'link' });
  };
  syncBuiltinESMExports();
}
const { FileJournal } = await import('../../coordinator/journal/file-journal.js');

let held: Awaited<ReturnType<typeof FileJournal.open>> | undefined;
const say = (line: string): void => void process.stdout.write(line + '\n');
say('ready');
for await (const line of createInterface({ input: process.stdin })) {
  const [command, path] = line.split(' ');
  if (command === 'open') {
    try {
      held = await FileJournal.open(path!, { create: false });
      say('won');
    } catch (err) {
      say(`lost ${(err as Error).message}`);
    }
  } else if (command === 'close') {
    await held?.close();
    held = undefined;
    say('closed');
  }
}
