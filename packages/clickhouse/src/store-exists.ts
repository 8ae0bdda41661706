import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openStoreClient, type ClickHouseStoreOptions } from './store-client.js';
import { toStoreError } from './store-errors.js';

/**
 * Whether walaudit's store is already there, without creating anything: opening the embedded
 * engine on a directory creates it, so a reader pointed at the wrong one would see an empty log.
 */
export async function storeExists(options: ClickHouseStoreOptions): Promise<boolean> {
  if (options.url === undefined || options.url === '') {
    return existsSync(join(resolve(options.dataDir), 'metadata', `${options.database}.sql`));
  }
  const store = openStoreClient(options);
  try {
    const result = await store.client.query({
      query: "SELECT count() AS n FROM system.tables WHERE database = {database:String} AND name = 'schema_migrations'",
      query_params: { database: options.database },
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ n: string | number }>();
    return Number(row?.n ?? 0) > 0;
  } catch (error) {
    throw toStoreError(error, store.target);
  } finally {
    await store.close();
  }
}
