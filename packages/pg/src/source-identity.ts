import pg from 'pg';
import type { SourceIdentity } from '@walaudit/core';
import { toWalauditError } from './pg-errors.js';
import { libpqConnectionString } from './connection-string.js';

/**
 * The server's system identifier and the database name, from IDENTIFY_SYSTEM on a replication
 * connection: the one way that needs nothing beyond the REPLICATION attribute walaudit needs
 * anyway (pg_control_system() is not granted to every role).
 */
export async function identifySource(url: string): Promise<SourceIdentity> {
  // `replication` is a connection parameter pg passes on but does not declare in its types.
  const config: pg.ClientConfig & { replication: 'database' } = { connectionString: libpqConnectionString(url), replication: 'database', application_name: 'walaudit' };
  const client = new pg.Client(config);
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ systemid: string; dbname: string | null }>('IDENTIFY_SYSTEM');
    const row = result.rows[0];
    if (!row?.dbname) throw new Error('IDENTIFY_SYSTEM named no database: the connection is not a logical replication connection');
    return { systemId: String(row.systemid), database: row.dbname };
  } catch (error) {
    throw toWalauditError(error, { url, action: 'identifying the source database' });
  } finally {
    await client.end().catch(() => undefined);
  }
}
