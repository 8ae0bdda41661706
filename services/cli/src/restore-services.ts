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
  const { redisUrl, queue: queueName, attempts } = config.cascade;
  let worker: RestoreWorker | null = null;
  let queue: RestoreQueue;
  if (redisUrl) {
    queue = createBullRestoreQueue({ redisUrl, queue: queueName, attempts });
    if (options.worker !== false) worker = startRestoreWorker({ redisUrl, queue: queueName, handler, lockDurationMs: config.cascade.jobLockMs, onError: (message) => log.warn(message) });
  } else queue = createInProcessRestoreQueue(handler);
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
