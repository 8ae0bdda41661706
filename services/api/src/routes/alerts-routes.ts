import { ALERT_KINDS, WalauditError } from '@walaudit/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AlertsApi, ApiServerDeps } from '../api-deps.js';
import { principalOf } from '../auth/auth-hook.js';
import { openAlertCounts } from '../live/live-counters.js';
import { alertList, alertsAcknowledged } from './process-schemas.js';

const alertsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100_000).default(50),
  open: z.enum(['1', 'true', '0', 'false']).optional().describe('1: only alerts not yet acknowledged'),
});

const ackBody = z.object({
  ids: z.array(z.string().min(1)).min(1).describe('Alert ids (walaudit alerts)'),
  by: z.string().trim().min(1).optional().describe('Who acknowledges; honoured for the local token only (a shell user on this host), else the principal is recorded'),
  note: z.string().optional(),
});

const countsAnswer = z.object({
  total: z.number().int().describe('Open alerts of every kind'),
  byKind: z.object(Object.fromEntries(ALERT_KINDS.map((kind) => [kind, z.number().int()])) as Record<(typeof ALERT_KINDS)[number], z.ZodNumber>).describe('Open alerts of each kind; 0 when none'),
});

function alertsOf(deps: ApiServerDeps): AlertsApi {
  if (!deps.alerts) throw new WalauditError('CONFIG_INVALID', 'alerts are disabled in this walaudit (alerts.enabled: false)');
  return deps.alerts;
}

export const alertsRoutes: FastifyPluginAsyncZod<{ deps: ApiServerDeps }> = async (app, { deps }) => {
  app.get('/api/alerts', { schema: { tags: ['alerts'], summary: 'Alerts, newest raised first (walaudit alerts)', querystring: alertsQuery, response: { 200: alertList } }, config: { role: 'viewer' } }, async (request) => {
    const { limit, open } = request.query;
    return { alerts: await alertsOf(deps).list({ limit, open: open === '1' || open === 'true' }) };
  });
  app.get(
    '/api/alerts/counts',
    { schema: { tags: ['alerts'], summary: 'Open (unacknowledged) alerts by kind, and their total: one aggregate, for badges', response: { 200: countsAnswer } }, config: { role: 'viewer' } },
    async () => openAlertCounts(await alertsOf(deps).openCounts()),
  );
  app.post('/api/alerts/ack', { schema: { tags: ['alerts'], summary: 'Acknowledges alerts; recorded in the audit trail under the principal (walaudit alerts ack)', body: ackBody, response: { 200: alertsAcknowledged } }, config: { role: 'viewer' } }, async (request) => {
    const principal = principalOf(request);
    // The local token stands for whoever may read the data directory: like the offline
    // `alerts ack --by`, it names the person. Any other principal is who acknowledges.
    const by = principal.via === 'local-token' && request.body.by ? request.body.by : principal.name;
    return alertsOf(deps).acknowledge({ ids: request.body.ids, by, note: request.body.note, role: principal.role });
  });
};
