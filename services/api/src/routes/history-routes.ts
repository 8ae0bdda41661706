import { MAX_PAGE_ENTRIES, WalauditError } from '@walaudit/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiServerDeps } from '../api-deps.js';
import { recordHistorySchema, transactionSummarySchema } from './audit-schemas.js';
import { queriesOf } from './store-parts.js';
import { parseKey } from './entry-filter-query.js';

const historyQuery = z.object({
  table: z.string().min(1).describe('The row\'s table: schema.table (a bare name matches it in any schema)'),
  pk: z.string().min(1).describe('Its primary key as JSON, {"id":"3"} (values as Postgres prints them)'),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_ENTRIES).default(1000).describe(`Versions per page, 1 to ${MAX_PAGE_ENTRIES}`),
  cursor: z.string().min(1).optional().describe("The previous page's nextCursor"),
});

const transactionQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_ENTRIES).default(100).describe('Most entries returned with the summary (search by xid for the rest)'),
});

/** A row's life and a transaction's content: what a DBA asks after "who changed this, and what else did they do?". */
export const historyRoutes: FastifyPluginAsyncZod<{ deps: ApiServerDeps }> = async (app, { deps }) => {
  app.get(
    '/api/history',
    {
      schema: {
        tags: ['audit trail'],
        summary: 'Every version of one row, oldest first: created, updated, deleted, restored (walaudit history)',
        querystring: historyQuery,
        response: { 200: recordHistorySchema },
      },
      config: { role: 'viewer' },
    },
    async (request) => {
      const { table, pk, limit, cursor } = request.query;
      return queriesOf(deps).recordHistory(table, parseKey(pk), { limit, cursor });
    },
  );
  app.get(
    '/api/transactions/:xid',
    {
      schema: {
        tags: ['audit trail'],
        summary: 'One transaction summed up: when, who, entries per table and operation, its first entries (walaudit log --xid)',
        params: z.object({ xid: z.coerce.number().int().min(0).describe('Postgres transaction id') }),
        querystring: transactionQuery,
        response: { 200: transactionSummarySchema },
      },
      config: { role: 'viewer' },
    },
    async (request) => {
      const summary = await queriesOf(deps).transaction(request.params.xid, { limit: request.query.limit });
      if (!summary) throw new WalauditError('TRANSACTION_NOT_FOUND', `the audit log holds no entry of transaction ${request.params.xid} (it changed no audited table, or retention purged it)`);
      return summary;
    },
  );
};
