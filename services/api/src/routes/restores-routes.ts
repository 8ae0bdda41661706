import { WalauditError } from '@walaudit/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiServerDeps, RestoresApi } from '../api-deps.js';
import { principalOf } from '../auth/auth-hook.js';
import { restorePlanned, restoreStatus, restoreSubmitted, type RestorePlanned, type RestoreStatus } from './process-schemas.js';

const entryId = z.string().min(1).describe('Audit entry id (00000000019C3E28-0)');

const restoreBody = z.object({
  request: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('entry'), entryId }),
    z.object({ kind: z.literal('tx'), xid: z.number().int().min(0) }),
    z.object({ kind: z.literal('cascade'), entryId }),
    z.object({ kind: z.literal('revert'), entryId }),
  ]),
  policy: z.enum(['fail', 'skip', 'new-key']).describe('When a row with the same key exists: fail the restore, skip the row, or insert it with a new key'),
  dryRun: z.boolean().optional().describe('Only report what would be written'),
  requestedBy: z.string().trim().min(1).optional().describe('Who asks; honoured for the local token only, else the principal is recorded'),
});

function restoresOf(deps: ApiServerDeps): RestoresApi {
  if (!deps.restores) throw new WalauditError('STORE_NOT_FOUND', 'this process runs no restores (a distributed reader holds no store): ask a writer');
  return deps.restores;
}

/** Restores write into the audited database: managers only, and each submission is audited. */
export const restoresRoutes: FastifyPluginAsyncZod<{ deps: ApiServerDeps }> = async (app, { deps }) => {
  app.post('/api/restores', { schema: { tags: ['restores'], summary: 'Submits a restore job (202), or plans one (dryRun, 200) (walaudit restore)', body: restoreBody, response: { 200: restorePlanned, 202: restoreSubmitted } }, config: { role: 'manager' } }, async (request, reply) => {
    const principal = principalOf(request);
    const { request: what, policy, dryRun } = request.body;
    const requestedBy = principal.via === 'local-token' && request.body.requestedBy ? request.body.requestedBy : principal.name;
    const restores = restoresOf(deps);
    if (dryRun) return reply.code(200).send({ report: (await restores.plan({ request: what, policy, requestedBy, dryRun: true })) as RestorePlanned['report'] });
    if (!deps.recordAction) throw new WalauditError('CONFIG_INVALID', 'a restore is recorded in the audited database first: give this process source.url (DATABASE_URL)');
    await restores.check({ request: what, policy, requestedBy });
    // Recorded before the job runs: a restore nobody can account for must not happen.
    await deps.recordAction({ name: 'restore.submit', by: requestedBy, role: principal.role, request: what, policy });
    const job = await restores.submit({ request: what, policy, requestedBy });
    deps.log?.info(`restore job ${job.id}${job.existing ? ' (already submitted)' : ''} for ${requestedBy} (${principal.role})`);
    return reply.code(202).send({ job });
  });
  app.get('/api/restores/:id', { schema: { tags: ['restores'], summary: 'State and report of a restore job', params: z.object({ id: z.string().min(1) }), response: { 200: restoreStatus } }, config: { role: 'viewer' } }, async (request) => {
    const job = await restoresOf(deps).status(request.params.id);
    if (!job) throw new WalauditError('API_NOT_FOUND', `no restore job ${request.params.id} (jobs are kept 7 days; ids look like restore-cascade-00000000019C3E28-0-fail)`);
    return { job: job as RestoreStatus['job'] };
  });
};
