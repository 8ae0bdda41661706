import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { WalauditConfig } from '@walaudit/core';
import { installDemoSchema, runSetup, startLocalPostgres } from '@walaudit/pg';
import type { Logger } from './logger.js';

export interface DemoSource {
  url: string;
  stop(): Promise<void>;
}

/**
 * Without DATABASE_URL, `start` audits a local Postgres it runs itself. The cluster lives beside
 * the store (default .walaudit/demo-postgres) and is reused on the next start: the audit log in
 * the store refers to its WAL positions, so a brand-new cluster would not continue the same log.
 */
export async function startDemoSource(config: WalauditConfig, log: Logger): Promise<DemoSource> {
  const baseDir = join(dirname(resolve(config.store.dataDir)), 'demo-postgres');
  const fresh = !existsSync(baseDir);
  log.info(`no DATABASE_URL given: starting a demo Postgres in ${baseDir}`);
  const server = await startLocalPostgres({ baseDir });
  if (fresh) {
    await installDemoSchema(server.url);
    await runSetup(server.url, { slot: config.source.slot, publication: config.source.publication, tables: [], dryRun: false, log: (line) => log.info(line) });
  }
  process.stderr.write(
    [
      '',
      '  walaudit demo: Postgres with tables customers, orders and order_lines (ON DELETE CASCADE)',
      `    connect:  ${server.psqlCommand}`,
      '    try:      DELETE FROM orders WHERE id = 3;',
      '    then:     npx walaudit log      (in another terminal)',
      '',
    ].join('\n') + '\n',
  );
  return { url: server.url, stop: () => server.stop() };
}
