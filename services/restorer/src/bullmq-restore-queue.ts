import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { describeError, isWalauditError, WalauditError, type RestoreReport } from '@walaudit/core';
import { mayRetry, restoreJobId, type RestoreHandler, type RestoreJobData, type RestoreJobState, type RestoreJobStatus, type RestoreQueue } from './restore-jobs.js';
import type { RestoreProgress } from './restore-runner.js';

export interface BullOptions {
  redisUrl: string;
  queue: string;
}

/** Completed jobs are kept this long, so a repeated request within it returns the same job. */
const KEEP_COMPLETED_SECONDS = 7 * 24 * 3600;

const connection = (redisUrl: string) => ({ url: redisUrl, maxRetriesPerRequest: null });

/** Distributed: `walaudit restore` submits here; `--services restorer` workers run the jobs. */
export function createBullRestoreQueue(options: BullOptions & { attempts: number }): RestoreQueue {
  const queue = new Queue<RestoreJobData, RestoreReport>(options.queue, { connection: connection(options.redisUrl) });
  queue.on('error', () => undefined);
  const status = async (id: string) => {
    // The state before the job: a job that completes between the two reads then shows its report
    // with a state one step old, never 'completed' with the report not read yet.
    const state = await queue.getJobState(id);
    const job = await queue.getJob(id);
    return job ? toStatus(job, state) : null;
  };
  return {
    async submit(data) {
      const id = restoreJobId(data);
      const known = await status(id);
      if (known && !mayRetry(known)) return { ...known, existing: true };
      if (known) await (await queue.getJob(id))?.remove();
      const job = await queue.add('restore', data, {
        jobId: id,
        attempts: options.attempts,
        backoff: { type: 'exponential', delay: 1_000 },
        removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
        removeOnFail: { age: KEEP_COMPLETED_SECONDS },
      });
      return toStatus(job, await job.getState());
    },
    status,
    async close() {
      await queue.close();
    },
  };
}

export interface RestoreWorker {
  close(): Promise<void>;
}

/**
 * Runs restore jobs. A restore is one Postgres transaction: a worker that dies mid-job leaves
 * nothing behind, and BullMQ hands the stalled job to the next worker (after `lockDurationMs`);
 * rows a dead worker committed just before dying are found already back, not inserted twice.
 */
export function startRestoreWorker(options: BullOptions & { handler: RestoreHandler; lockDurationMs?: number; onError?: (message: string) => void }): RestoreWorker {
  const worker = new Worker<RestoreJobData, RestoreReport>(
    options.queue,
    async (job) => {
      try {
        return await options.handler(job.data, job.id!, (progress: RestoreProgress) => void job.updateProgress({ ...progress }).catch(() => undefined));
      } catch (error) {
        // Transient errors are retried by BullMQ (attempts, backoff); others would fail the same way again.
        if (isWalauditError(error) && error.retriable) throw error;
        throw new UnrecoverableError(describeError(error));
      }
    },
    {
      connection: connection(options.redisUrl),
      concurrency: 1,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: Math.max(500, Math.floor((options.lockDurationMs ?? 30_000) / 2)),
      maxStalledCount: 3,
    },
  );
  worker.on('error', (error) => options.onError?.(describeError(error)));
  worker.on('failed', (job, error) => options.onError?.(`restore job ${job?.id} failed: ${describeError(error)}`));
  return {
    async close() {
      await worker.close();
    },
  };
}

function toStatus(job: Job<RestoreJobData, RestoreReport>, state: string): RestoreJobStatus {
  const progress = typeof job.progress === 'object' && job.progress !== null ? (job.progress as unknown as RestoreProgress) : null;
  return {
    id: job.id!,
    state: (['waiting', 'active', 'completed', 'failed', 'delayed'].includes(state) ? state : state === 'prioritized' || state === 'waiting-children' ? 'waiting' : 'unknown') as RestoreJobState,
    data: job.data,
    progress,
    report: job.returnvalue ?? null,
    error: job.failedReason || null,
    attempts: job.attemptsMade,
  };
}

export function unknownJob(id: string): WalauditError {
  return new WalauditError('CONFIG_INVALID', `no restore job ${id} (jobs are kept 7 days; ids look like restore-cascade-00000000019C3E28-0-fail)`);
}
