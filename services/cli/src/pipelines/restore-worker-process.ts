import { describeError, WalauditError, type WalauditConfig, retryWhileRetriable } from '@walaudit/core';
import type { Logger } from '../logger.js';
import { openStore } from './open-store.js';
import { startRestoreServices } from '../restore-services.js';

const KNOWN = ['restorer'];

/**
 * `walaudit start --services restorer`: distributed mode, a restore worker on cascade.redisUrl
 * without the pipeline (the Kafka-fed reader and writers are start-distributed.ts).
 */
export async function servicesCommand(config: WalauditConfig, list: string, log: Logger): Promise<void> {
  const services = list.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = services.filter((s) => !KNOWN.includes(s));
  if (unknown.length > 0) throw new WalauditError('CONFIG_INVALID', `--services: unknown ${unknown.join(', ')}; this build runs ${KNOWN.join(', ')} on its own`);
  if (!config.cascade.redisUrl) throw new WalauditError('CONFIG_INVALID', '--services restorer takes its jobs from Redis: set cascade.redisUrl (WALAUDIT_CASCADE_REDIS_URL)');
  const restoreUrl = config.cascade.restoreUrl ?? config.source.url;
  if (!restoreUrl) throw new WalauditError('CONFIG_INVALID', 'the restorer needs the database to restore into: set cascade.restoreUrl or source.url (DATABASE_URL)');
  const stores = await retryWhileRetriable(() => openStore(config), {
    initialMs: config.pipeline.retryInitialMs,
    maxMs: config.pipeline.retryMaxMs,
    onRetry: (attempt, delayMs, error) => log.warn(`store not reachable (attempt ${attempt}), retrying in ${delayMs} ms: ${describeError(error)}`),
  });
  const restores = startRestoreServices(config, stores.cascadeLinks, restoreUrl, log.child('restorer'));
  log.info(`restore worker on queue ${config.cascade.queue} (${new URL(config.cascade.redisUrl).host}), reading ${stores.label}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      log.info(`${signal}: finishing the current job and stopping`);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await restores.close();
  await stores.close();
  log.info('stopped cleanly');
}
