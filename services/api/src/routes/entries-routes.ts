import { CHANGE_OPS, verifyAuditLog, WalauditError, type AuditStore } from '@walaudit/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiServerDeps } from '../api-deps.js';

const entriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100_000).default(50).describe('Most entries returned, newest first'),
  op: z.enum(CHANGE_OPS).optional().describe('Only this operation'),
  since: z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'not a time (ISO 8601, 2026-03-02T10:00:00Z)').optional().describe('Only entries committed at or after this time'),
  table: z.string().min(1).optional().describe('Only this table (schema.table, or table)'),
  xid: z.coerce.number().int().min(0).optional().describe('Only this transaction'),
});

function storeOf(deps: ApiServerDeps): AuditStore {
  if (!deps.store) {
    throw new WalauditError('STORE_NOT_FOUND', 'this process runs only the reader (walaudit start --services reader) and holds no store: ask a writer, or use --clickhouse-url');
  }
  return deps.store;
}

/** The audit trail: entries with today's filters (walaudit log) and the hash-chain check (walaudit verify). */
export const entriesRoutes: FastifyPluginAsyncZod<{ deps: ApiServerDeps }> = async (app, { deps }) => {
  app.get('/api/entries', { schema: { tags: ['audit trail'], summary: 'Audit entries, newest first, with before and after images (walaudit log)', querystring: entriesQuery }, config: { role: 'viewer' } }, async (request) => {
    const { limit, op, since, table, xid } = request.query;
    return { entries: await storeOf(deps).queryLog({ limit, op, since: since ? new Date(since).toISOString() : undefined, table, xid }) };
  });
  app.get('/api/verify', { schema: { tags: ['audit trail'], summary: 'Checks every hash chain of the audit log (walaudit verify)' }, config: { role: 'viewer' } }, async () => verifyAuditLog(storeOf(deps)));
};
