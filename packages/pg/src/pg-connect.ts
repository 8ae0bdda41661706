import pg from 'pg';
import { toWalauditError } from './pg-errors.js';
import { libpqConnectionString } from './connection-string.js';

/**
 * A connected pg.Client whose connection failures are already WalauditErrors. An idle client whose
 * server goes away emits 'error'; without a listener that would crash the process, so the next
 * query reports it instead.
 */
export async function connectClient(url: string, applicationName = 'walaudit'): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: libpqConnectionString(url), application_name: applicationName });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw toWalauditError(error, { url, action: 'connecting' });
  }
  return client;
}

/** Runs fn with a fresh client and always closes it. */
export async function withClient<T>(url: string, applicationName: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectClient(url, applicationName);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
