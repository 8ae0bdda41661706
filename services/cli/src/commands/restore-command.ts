import { userInfo } from 'node:os';
import { WalauditError, type ConflictPolicy, type RestoreReport, type RestoreRequest, type WalauditConfig } from '@walaudit/core';
import { checkRequest, formatReport, runRestore, unknownJob, type RestoreJobStatus, type RestoreProgress } from '@walaudit/restorer';
import { openExistingStore } from '../pipelines/open-store.js';
import { askRunningInstance, postToRunningInstance } from '../running-instance.js';
import { restoreDeps, startRestoreServices, withBullQueue, type RestoreCall } from '../restore-services.js';
import { createLogger } from '../logger.js';

export interface RestoreFlags {
  tx?: string;
  cascade?: string;
  revert?: string;
  dryRun?: boolean;
  onConflict?: string;
  wait?: boolean;
  status?: string;
  json?: boolean;
  user?: string;
}

type Out = (line: string) => void;

/**
 * `walaudit restore`. Exit 0: restored (or planned); 1: conflicts refused it; 2: an error. The job
 * goes to Redis when cascade.redisUrl is set, else to the running `start`, else runs right here.
 */
export async function restoreCommand(config: WalauditConfig, entryId: string | undefined, flags: RestoreFlags, out: Out): Promise<number> {
  if (flags.status) return showStatus(config, flags.status, flags, out);
  const request = toRequest(entryId, flags);
  const policy = (flags.onConflict ?? config.cascade.onConflict) as ConflictPolicy;
  if (!['fail', 'skip', 'new-key'].includes(policy)) throw new WalauditError('CONFIG_INVALID', `--on-conflict must be fail, skip or new-key, not "${policy}"`);
  const call: RestoreCall = { request, policy, requestedBy: flags.user ?? userInfo().username, dryRun: flags.dryRun };

  if (!flags.dryRun) {
    const queued = await withBullQueue(config, async (queue) => follow(await queue.submit(call), flags, out, (id) => queue.status(id)));
    if (queued !== null) return queued;
  }
  const remote = await postToRunningInstance<{ job?: RestoreJobStatus; report?: RestoreReport }>(config, '/api/restores', call);
  if (remote?.report) return printReport(remote.report, flags, out);
  if (remote?.job) return follow(remote.job, flags, out, async (id) => (await askRunningInstance<{ job: RestoreJobStatus }>(config, `/api/restores/${encodeURIComponent(id)}`))?.job ?? null);

  // Nothing runs: the same handler, here.
  const sourceUrl = config.source.url;
  if (!sourceUrl && !config.cascade.restoreUrl) throw new WalauditError('CONFIG_INVALID', 'no walaudit start is running and no source.url (DATABASE_URL) or cascade.restoreUrl is set: nothing to restore into');
  const stores = await openExistingStore(config);
  try {
    if (flags.dryRun) return printReport(await runRestore(restoreDeps(config, stores.cascadeLinks, sourceUrl ?? ''), request, { policy, dryRun: true, requestedBy: call.requestedBy }), flags, out);
    const services = startRestoreServices(config, stores.cascadeLinks, sourceUrl ?? '', createLogger('walaudit:restore'), { worker: false });
    try {
      await checkRequest(request, services.deps.entries);
      const job = await services.queue.submit(call);
      return await follow(job, { ...flags, wait: true }, out, (id) => services.queue.status(id));
    } finally {
      await services.close();
    }
  } finally {
    await stores.close();
  }
}

function toRequest(entryId: string | undefined, flags: RestoreFlags): RestoreRequest {
  const given = [entryId !== undefined, flags.tx !== undefined, flags.cascade !== undefined, flags.revert !== undefined].filter(Boolean).length;
  if (given !== 1) throw new WalauditError('CONFIG_INVALID', 'name exactly one of: ENTRY_ID, --tx XID, --cascade ENTRY_ID, --revert ENTRY_ID');
  if (flags.tx !== undefined) {
    const xid = Number(flags.tx);
    if (!Number.isSafeInteger(xid) || xid < 0) throw new WalauditError('CONFIG_INVALID', `--tx wants a transaction id (a number), not "${flags.tx}"`);
    return { kind: 'tx', xid };
  }
  if (flags.cascade !== undefined) return { kind: 'cascade', entryId: flags.cascade };
  if (flags.revert !== undefined) return { kind: 'revert', entryId: flags.revert };
  return { kind: 'entry', entryId: entryId! };
}

async function follow(job: RestoreJobStatus, flags: RestoreFlags, out: Out, poll: (id: string) => Promise<RestoreJobStatus | null>): Promise<number> {
  if (!flags.wait) {
    if (flags.json) out(JSON.stringify(job));
    else {
      out(`restore job ${job.id} ${job.existing ? `already submitted (${job.state}): the same request restores once` : 'submitted'}`);
      out(`  follow it: walaudit restore --status ${job.id}`);
    }
    return 0;
  }
  let current: RestoreJobStatus | null = job;
  let lastLine = '';
  while (current && current.state !== 'completed' && current.state !== 'failed') {
    const line = progressLine(current);
    if (line !== lastLine && !flags.json) process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
    lastLine = line;
    await new Promise((resolve) => setTimeout(resolve, 200));
    current = await poll(job.id);
  }
  if (process.stderr.isTTY && lastLine && !flags.json) process.stderr.write('\n');
  if (!current) throw unknownJob(job.id);
  if (current.state === 'failed' || !current.report) throw new WalauditError('INTERNAL', `restore job ${current.id} failed after ${current.attempts} attempt(s): ${current.error ?? 'no report'}`);
  return printReport(current.report, flags, out);
}

export function progressLine(job: RestoreJobStatus): string {
  const p: RestoreProgress | null = job.progress;
  if (!p || p.total === 0) return `restore job ${job.id}: ${p?.phase ?? job.state}`;
  const width = 30;
  const filled = Math.round((p.done / p.total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor((p.done / p.total) * 100)}% ${p.phase} ${p.done}/${p.total}`;
}

function printReport(report: RestoreReport, flags: RestoreFlags, out: Out): number {
  if (flags.json) out(JSON.stringify(report));
  else {
    if (report.sql) for (const line of report.sql) out(line);
    for (const line of formatReport(report)) out(line);
  }
  return report.outcome === 'ok' ? 0 : 1;
}

async function showStatus(config: WalauditConfig, id: string, flags: RestoreFlags, out: Out): Promise<number> {
  let job: RestoreJobStatus | null | undefined;
  if (config.cascade.redisUrl) {
    job = await withBullQueue(config, (queue) => queue.status(id));
  } else {
    const answer = await askRunningInstance<{ job: RestoreJobStatus }>(config, `/api/restores/${encodeURIComponent(id)}`);
    if (answer === undefined) throw new WalauditError('SERVER_NOT_RUNNING', `no walaudit start on port ${config.http.port} and no cascade.redisUrl: restore jobs live in the process that ran them`);
    job = answer.job;
  }
  if (!job) throw unknownJob(id);
  if (flags.json) {
    out(JSON.stringify(job));
    return 0;
  }
  out(`restore job ${job.id}: ${job.state} (attempts ${job.attempts}), asked by ${job.data.requestedBy}`);
  if (job.state !== 'completed') out(`  ${progressLine(job)}`);
  if (job.error) out(`  last error: ${job.error}`);
  if (job.report) for (const line of formatReport(job.report)) out(`  ${line}`);
  return 0;
}
