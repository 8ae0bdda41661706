import { withClient } from './pg-connect.js';
import { toWalauditError } from './pg-errors.js';
import { readSchemaSql } from './schema-files.js';

export interface DemoRowCounts {
  customers: number;
  orders: number;
  orderLines: number;
}

/**
 * Creates and seeds the demo shop (schemas/postgres/demo.sql) in the database at url. Safe to run
 * again: existing tables and rows are left as they are. Returns the row counts afterwards.
 */
export async function installDemoSchema(url: string): Promise<DemoRowCounts> {
  return withClient(url, 'walaudit demo', async (client) => {
    try {
      // One simple-protocol query: the file is several statements, run as one implicit transaction.
      await client.query(readSchemaSql('demo.sql'));
      const { rows } = await client.query<DemoRowCounts>(
        `SELECT (SELECT count(*) FROM customers)::int AS customers, (SELECT count(*) FROM orders)::int AS orders,
                (SELECT count(*) FROM order_lines)::int AS "orderLines"`,
      );
      return rows[0]!;
    } catch (error) {
      throw toWalauditError(error, { url, action: 'installing the demo schema' });
    }
  });
}
