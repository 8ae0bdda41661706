import { WalauditError, type WalauditConfig } from '@walaudit/core';
import type { Logger } from '../logger.js';
import { openStoreWithRetry } from './open-store.js';
import { runUntilSignal } from './run-until-signal.js';
import { startRestoreServices } from '../restore-services.js';

/**
 * Distributed mode's restore worker: runs the restore jobs of cascade.redisUrl, without the
 * pipeline (the Kafka-fed reader and writers are distributed-process.ts), until SIGINT/SIGTERM.
 */
export async function runRestoreWorker(config: WalauditConfig, log: Logger): Promise<void> {
  const { redisUrl } = config.cascade;
  if (!redisUrl) throw new WalauditError('CONFIG_INVALID', '--services restorer takes its jobs from Redis: set cascade.redisUrl (WALAUDIT_CASCADE_REDIS_URL)');
  const restoreUrl = config.cascade.restoreUrl ?? config.source.url;
  if (!restoreUrl) throw new WalauditError('CONFIG_INVALID', 'the restorer needs the database to restore into: set cascade.restoreUrl or source.url (DATABASE_URL)');
  const stores = await openStoreWithRetry(config, log);
  const restores = startRestoreServices(config, stores.cascadeLinks, restoreUrl, log.child('restorer'));
  log.info(`restore worker on queue ${config.cascade.queue} (${new URL(redisUrl).host}), reading ${stores.label}`);
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  await runUntilSignal({
    log,
    run: () => stopped,
    stop,
    stopping: 'finishing the current job and stopping',
    exitNow: 'a restore is one transaction: the job cut short changed nothing, and BullMQ gives it to the next worker once its lock expires',
    cleanup: [() => restores.close(), () => stores.close()],
  });
}
