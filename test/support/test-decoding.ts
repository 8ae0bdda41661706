import pg from 'pg';

/**
 * Reads a database's WAL through a test_decoding slot, which prints logical messages as well as
 * rows: `message: transactional: 1 prefix: walaudit.stmt, sz: N content:{...}`, `table public.t:
 * DELETE: ...`, `BEGIN n`, `COMMIT n`. For asserting what setup's triggers and the helpers write.
 */
export async function createTestDecodingSlot(client: pg.ClientBase, slot: string): Promise<void> {
  await client.query(`SELECT pg_create_logical_replication_slot($1, 'test_decoding')`, [slot]);
}

/** Consumes and returns every change line since the last read. */
export async function readTestDecoding(client: pg.ClientBase, slot: string): Promise<string[]> {
  const { rows } = await client.query<{ data: string }>(`SELECT data FROM pg_logical_slot_get_changes($1, NULL, NULL)`, [slot]);
  return rows.map((row) => row.data);
}

export interface DecodedMessage {
  prefix: string;
  transactional: boolean;
  content: string;
}

/** The logical message on a test_decoding line, or undefined for any other line. */
export function parseMessageLine(line: string): DecodedMessage | undefined {
  const match = /^message: transactional: (\d) prefix: (.*?), sz: \d+ content:([\s\S]*)$/.exec(line);
  if (!match) return undefined;
  return { transactional: match[1] === '1', prefix: match[2]!, content: match[3]! };
}
