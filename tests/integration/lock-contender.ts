/**
 * A process that contends for journal locks (journal-lock.test.ts): on
 * "open PATH" it tries FileJournal.open and answers "won" or "lost
 * <message>"; on "close" it lets go of what it holds and answers "closed".
 */
import { createInterface } from 'node:readline';
import { FileJournal } from '../../coordinator/journal/file-journal.js';

let held: FileJournal | undefined;
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
