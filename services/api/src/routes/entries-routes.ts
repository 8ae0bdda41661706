import { MAX_PAGE_ENTRIES, verifyAuditLog, WalauditError } from '@walaudit/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiServerDeps } from '../api-deps.js';
import { entryDetailSchema, entryPageSchema } from './audit-schemas.js';
import { queriesOf, storeOf } from './store-parts.js';
import { entryFilterQuery, toEntryFilter } from './entry-filter-query.js';
import { verifySchema } from './process-schemas.js';

const entriesQuery = entryFilterQuery.extend({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_ENTRIES).default(50).describe(`Entries per page, 1 to ${MAX_PAGE_ENTRIES}`),
  cursor: z.string().min(1).optional().describe("The previous page's nextCursor"),
  count: z.enum(['1', 'true', '0', 'false']).optional().describe('1: also count every matching entry (total); a second query, leave it off for later pages'),
});

/** The audit trail: searches (walaudit log), one entry explained, and the hash-chain check (walaudit verify). */
export const entriesRoutes: FastifyPluginAsyncZod<{ deps: ApiServerDeps }> = async (app, { deps }) => {
  app.get(
    '/api/entries',
    {
      schema: {
        tags: ['audit trail'],
        summary: 'Audit entries matching a filter, newest first, a page at a time (keyset cursor) (walaudit log)',
        querystring: entriesQuery,
        response: { 200: entryPageSchema },
      },
      config: { role: 'viewer' },
    },
    async (request) => {
      const { limit, cursor, count, ...filter } = request.query;
      return queriesOf(deps).searchEntries({ filter: toEntryFilter(filter), limit, cursor, count: count === '1' || count === 'true' });
    },
  );
  app.get(
    '/api/entries/:id',
    {
      schema: {
        tags: ['audit trail'],
        summary: "One entry explained: an update's changed columns, the deletion that cascaded to it and what it cascaded to, its hash-chain check",
        params: z.object({ id: z.string().min(1).describe('Entry id (00000000019C3E28-0)') }),
        response: { 200: entryDetailSchema },
      },
      config: { role: 'viewer' },
    },
    async (request) => {
      const detail = await queriesOf(deps).entryDetail(request.params.id);
      if (!detail) throw new WalauditError('ENTRY_NOT_FOUND', `no audit entry has id ${request.params.id} (ids look like 00000000019C3E28-0: see GET /api/entries or walaudit log; retention may have purged it)`);
      return detail;
    },
  );
  app.get('/api/verify', { schema: { tags: ['audit trail'], summary: 'Checks every hash chain of the audit log (walaudit verify)', response: { 200: verifySchema } }, config: { role: 'viewer' } }, async () => verifyAuditLog(storeOf(deps)));
};
