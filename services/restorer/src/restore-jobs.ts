import { describeError, type ConflictPolicy, type RestoreReport, type RestoreRequest } from '@walaudit/core';
import { runRestore, type RestoreDeps, type RestoreProgress } from './restore-runner.js';

/** A restore request as a job: what to restore, the policy, and who asked. */
export interface RestoreJobData {
  request: RestoreRequest;
  policy: ConflictPolicy;
  requestedBy: string;
}

export type RestoreJobState = 'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'unknown';

export interface RestoreJobStatus {
  id: string;
  state: RestoreJobState;
  data: RestoreJobData;
  progress: RestoreProgress | null;
  /** Set once completed (a report whose outcome is failed means conflicts refused it). */
  report: RestoreReport | null;
  /** Why the last attempt failed (an error, not a conflict). */
  error: string | null;
  attempts: number;
  /** Submitting returned a job that already existed: the same request restores once. */
  existing?: boolean;
}

/** Where restore jobs wait and run: BullMQ on Redis (distributed), or the `start` process. */
export interface RestoreQueue {
  submit(data: RestoreJobData): Promise<RestoreJobStatus>;
  status(id: string): Promise<RestoreJobStatus | null>;
  close(): Promise<void>;
}

export type RestoreHandler = (data: RestoreJobData, jobId: string, onProgress: (progress: RestoreProgress) => void) => Promise<RestoreReport>;

/**
 * The job id is the request itself, so the same request twice is one job. BullMQ refuses `:` in
 * ids; entry ids and xids never contain one.
 */
export function restoreJobId(data: RestoreJobData): string {
  const target = data.request.kind === 'tx' ? String(data.request.xid) : data.request.entryId;
  return `restore-${data.request.kind}-${target}-${data.policy}`.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** A job that may be tried afresh when submitted again: it failed, or conflicts refused it. */
export function mayRetry(status: RestoreJobStatus): boolean {
  return status.state === 'failed' || (status.state === 'completed' && status.report?.outcome === 'failed');
}

/** The same handler in every mode: runRestore with the job's id in the audit context. */
export function createRestoreHandler(deps: RestoreDeps): RestoreHandler {
  return (data, jobId, onProgress) => runRestore(deps, data.request, { policy: data.policy, dryRun: false, requestedBy: data.requestedBy, jobId, onProgress });
}

/** Standalone: jobs run one at a time in this process; statuses are kept in memory. */
export function createInProcessRestoreQueue(handler: RestoreHandler): RestoreQueue {
  const jobs = new Map<string, RestoreJobStatus>();
  let chain: Promise<unknown> = Promise.resolve();
  return {
    async submit(data) {
      const id = restoreJobId(data);
      const known = jobs.get(id);
      if (known && !mayRetry(known)) return { ...known, existing: true };
      const status: RestoreJobStatus = { id, state: 'waiting', data, progress: null, report: null, error: null, attempts: 0 };
      jobs.set(id, status);
      chain = chain.then(async () => {
        status.state = 'active';
        status.attempts++;
        try {
          status.report = await handler(data, id, (progress) => (status.progress = progress));
          status.state = 'completed';
        } catch (error) {
          status.error = describeError(error);
          status.state = 'failed';
        }
      });
      return { ...status };
    },
    async status(id) {
      const known = jobs.get(id);
      return known ? { ...known } : null;
    },
    async close() {
      await chain;
    },
  };
}
