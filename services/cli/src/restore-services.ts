import type { CascadeStore, ConflictPolicy, RestoreRequest, WalauditConfig } from '@walaudit/core';
import {
  checkRequest,
  createBullRestoreQueue,
  createInProcessRestoreQueue,
  createRestoreHandler,
  runRestore,
  startRestoreWorker,
  type RestoreDeps,
  type RestoreQueue,
  type RestoreWorker,
} from '@walaudit/restorer';
import type { RestoresApi } from '@walaudit/api';
import type { Logger } from './logger.js';

export interface RestoreServices {
  queue: RestoreQueue;
  deps: RestoreDeps;
  /** What POST /api/restores and GET /api/restores/:id call. */
  api: RestoresApi;
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
 * this process runs a worker too; without, they run here one at a time. POST /api/restores submits
 * (or plans, dry run) and GET /api/restores/:id reports, for `walaudit restore` in another shell.
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
  const api: RestoresApi = {
    plan: (call) => runRestore(deps, call.request, { policy: call.policy, dryRun: true, requestedBy: call.requestedBy }),
    check: (call) => checkRequest(call.request, deps.entries),
    submit: (call) => queue.submit({ request: call.request, policy: call.policy, requestedBy: call.requestedBy }),
    status: (id) => queue.status(id),
  };
  return {
    queue,
    deps,
    api,
    async close() {
      await worker?.close();
      await queue.close();
    },
  };
}
