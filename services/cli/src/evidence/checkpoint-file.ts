import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { WalauditError } from '@walaudit/core';

/** One line of the checkpoint file (schemas/checkpoints.md). Only `note` is evidence. */
export interface CheckpointRecord {
  origin: string;
  size: number;
  root: string;
  time: string;
  note: string;
  /** The tree's compact range, base64, largest subtree first: lets a restart continue the tree. */
  frontier: string[];
}

/** Ends the file with a newline if a crash left its last line partial, so the next line starts clean. */
export async function endPartialLine(file: string): Promise<boolean> {
  if (!existsSync(file)) return false;
  const handle = await open(file, 'r+');
  try {
    const { size } = await handle.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    if (last[0] === 0x0a) return false;
    await handle.write('\n', size);
    await handle.sync();
    return true;
  } finally {
    await handle.close();
  }
}

/** Appends one line and fsyncs it before resolving: a checkpoint that was reported published survives a crash. */
export async function appendCheckpointRecord(file: string, record: CheckpointRecord): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const handle = await open(file, 'a', 0o640);
  try {
    await handle.write(`${JSON.stringify(record)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Every line of the file, in order, a line at a time; none when the file does not exist. */
export async function* readCheckpointRecords(file: string): AsyncGenerator<{ line: number; record: CheckpointRecord }> {
  if (!existsSync(file)) return;
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let line = 0;
  // A crash mid-write can leave a partial last line (ignored); anywhere else it is damage.
  let partial: WalauditError | null = null;
  for await (const text of lines) {
    line++;
    if (!text.trim()) continue;
    if (partial) throw partial;
    let record: CheckpointRecord;
    try {
      record = JSON.parse(text) as CheckpointRecord;
    } catch (error) {
      partial = new WalauditError('CHECKPOINT_INVALID', `${file} line ${line} is not JSON: ${(error as Error).message}`, { cause: error });
      continue;
    }
    if (typeof record.note !== 'string') throw new WalauditError('CHECKPOINT_INVALID', `${file} line ${line} has no signed note`);
    yield { line, record };
  }
}
