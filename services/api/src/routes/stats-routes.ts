import { MAX_STATS_BUCKETS, STATS_BUCKETS, STATS_GROUPS } from '@walaudit/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiServerDeps } from '../api-deps.js';
import { statsSchema, topDeletersSchema } from './audit-schemas.js';
import { queriesOf } from './store-parts.js';
import { entryFilterQuery, toEntryFilter } from './entry-filter-query.js';

const DEFAULT_DAYS = 30;

/** The range asked for, else the last 30 days up to now (or before `to`). */
function rangeOf(query: { from?: string; to?: string }): { from: string; to: string } {
  const to = query.to ?? new Date().toISOString();
  const end = Date.parse(to);
  // A bad `to` is left for the store's check, which names it.
  const from = query.from ?? (Number.isNaN(end) ? to : new Date(end - DEFAULT_DAYS * 86_400_000).toISOString());
  return { from, to };
}

const statsQuery = entryFilterQuery.extend({
  bucket: z.enum(STATS_BUCKETS).default('day').describe(`Time bucket: ${STATS_BUCKETS.join(', ')}; at most ${MAX_STATS_BUCKETS} buckets between from and to`),
  groupBy: z.enum(STATS_GROUPS).default('table').describe(`Counted per ${STATS_GROUPS.join(', ')}`),
});

const topDeletersQuery = z.object({
  from: z.string().min(1).optional().describe(`Deleted at or after this time (ISO 8601; default ${DEFAULT_DAYS} days before to)`),
  to: z.string().min(1).optional().describe('Deleted before this time (default now)'),
  limit: z.coerce.number().int().min(1).max(1000).default(10).describe('Most actors returned'),
});

/** Counts over time, for dashboards: entries per bucket and group, and who deletes most. */
export const statsRoutes: FastifyPluginAsyncZod<{ deps: ApiServerDeps }> = async (app, { deps }) => {
  app.get(
    '/api/stats',
    {
      schema: {
        tags: ['audit trail'],
        summary: `Entries per time bucket and table, actor or operation, narrowed by the entry filter (default: the last ${DEFAULT_DAYS} days by day and table)`,
        querystring: statsQuery,
        response: { 200: statsSchema },
      },
      config: { role: 'viewer' },
    },
    async (request) => {
      const { bucket, groupBy, ...query } = request.query;
      const range = rangeOf(query);
      const filter = toEntryFilter({ ...query, from: undefined, to: undefined });
      const points = await queriesOf(deps).stats({ bucket, groupBy, ...range, filter });
      return { ...range, bucket, groupBy, points };
    },
  );
  app.get(
    '/api/stats/top-deleters',
    {
      schema: {
        tags: ['audit trail'],
        summary: `Actors by rows deleted (deletes and truncates), most first (default: the last ${DEFAULT_DAYS} days)`,
        querystring: topDeletersQuery,
        response: { 200: topDeletersSchema },
      },
      config: { role: 'viewer' },
    },
    async (request) => {
      const range = rangeOf(request.query);
      return { ...range, actors: await queriesOf(deps).topDeleters(range, request.query.limit) };
    },
  );
};
