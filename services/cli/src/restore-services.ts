import { WalauditError, type CascadeStore, type ConflictPolicy, type RestoreRequest, type WalauditConfig } from '@walaudit/core';
import {
  checkRequest,
  createBullRestoreQueue,
  createInProcessRestoreQueue,
  createRestoreHandler,
  runRestore,
  startRestoreWorker,
  unknownJob,
  type RestoreDeps,
  type RestoreQueue,
  type RestoreWorker,
} from '@walaudit/restorer';
import type { ApiRoute } from '@walaudit/api';
import type { Logger } from './logger.js';

export interface RestoreServices {
  queue: RestoreQueue;
  deps: RestoreDeps;
  routes: Record<string, ApiRoute>;
  close(): Promise<void>;
}

/** What a client asks of POST /restores. */
export interface RestoreCall {
  request: RestoreRequest;
  policy: ConflictPolicy;
  requestedBy: string;
  dryRun?: boolean;
}

/**
 * The BullMQ queue on cascade.redisUrl that `walaudit restore` submits to and every restore
 * worker takes jobs from; null without Redis (jobs then run in the process that holds the store).
 */
export function createConfiguredBullQueue(config: WalauditConfig): RestoreQueue | null {
  const { redisUrl, queue, attempts } = config.cascade;
  return redisUrl ? createBullRestoreQueue({ redisUrl, queue, attempts }) : null;
}

/** Runs `work` on the Redis queue (see createConfiguredBullQueue), closed after; null without Redis. */
export async function withBullQueue<T>(config: WalauditConfig, work: (queue: RestoreQueue) => Promise<T>): Promise<T | null> {
  const queue = createConfiguredBullQueue(config);
  if (!queue) return null;
  try {
    return await work(queue);
  } finally {
    await queue.close();
  }
}

export function restoreDeps(config: WalauditConfig, links: CascadeStore, sourceUrl: string): RestoreDeps {
  return { entries: links, links, restoreUrl: config.cascade.restoreUrl ?? sourceUrl, rules: config.rules, batchRows: config.cascade.batchRows };
}

/**
 * Restores for a process that holds the store: with cascade.redisUrl, jobs go through BullMQ and
 * this process runs a worker too; without, they run here one at a time. POST /restores submits
 * (or plans, dry run) and GET /restores?job=ID reports, for `walaudit restore` in another shell.
 */
export function startRestoreServices(config: WalauditConfig, links: CascadeStore, sourceUrl: string, log: Logger, options: { worker?: boolean } = {}): RestoreServices {
  const deps = restoreDeps(config, links, sourceUrl);
  const handler = createRestoreHandler(deps);
  const { redisUrl, queue: queueName } = config.cascade;
  const queue = createConfiguredBullQueue(config) ?? createInProcessRestoreQueue(handler);
  let worker: RestoreWorker | null = null;
  if (redisUrl && options.worker !== false) {
    worker = startRestoreWorker({ redisUrl, queue: queueName, handler, lockDurationMs: config.cascade.jobLockMs, onError: (message) => log.warn(message) });
  }
  const routes: Record<string, ApiRoute> = {
    '/restores': async ({ method, url, body }) => {
      if (method === 'GET') {
        const id = url.searchParams.get('job');
        if (!id) throw new WalauditError('CONFIG_INVALID', '"job" (a restore job id) is required');
        const job = await queue.status(id);
        if (!job) throw unknownJob(id);
        return { status: 200, body: { job } };
      }
      if (method !== 'POST') return { status: 405, body: { error: { code: 'CONFIG_INVALID', message: 'GET or POST' } } };
      const call = body as RestoreCall;
      if (!call?.request?.kind || !call.policy) throw new WalauditError('CONFIG_INVALID', 'POST /restores wants {"request":{"kind":...},"policy":...,"requestedBy":...}');
      if (call.dryRun) return { status: 200, body: { report: await runRestore(deps, call.request, { policy: call.policy, dryRun: true, requestedBy: call.requestedBy }) } };
      await checkRequest(call.request, deps.entries);
      const job = await queue.submit({ request: call.request, policy: call.policy, requestedBy: call.requestedBy });
      log.info(`restore job ${job.id}${job.existing ? ' (already submitted)' : ''} for ${call.requestedBy}`);
      return { status: 202, body: { job } };
    },
  };
  return {
    queue,
    deps,
    routes,
    async close() {
      await worker?.close();
      await queue.close();
    },
  };
}
