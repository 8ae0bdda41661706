import { WalauditError, type AuditEntry, type AuditQueries } from '@walaudit/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiServerDeps } from '../api-deps.js';
import { principalOf } from '../auth/auth-hook.js';
import { verificationInWords, verifyCoveredChains } from '../exports/covered-chains.js';
import { csvChunks, exportStream, jsonLineChunks, openExport, pagesOf } from '../exports/export-stream.js';
import { filterInWords } from '../exports/filter-in-words.js';
import { renderReport } from '../exports/pdf-report.js';
import { errorSchema } from './audit-schemas.js';
import { entryFilterQuery, toEntryFilter } from './entry-filter-query.js';
import { queriesOf, storeOf } from './store-parts.js';

const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 500: errorSchema };

const reportQuery = entryFilterQuery.extend({
  snapshots: z.enum(['0', '1', 'true', 'false']).optional().describe('1: add an appendix with each entry\'s row before and after'),
});

const DEFAULT_MAX_REPORT_ENTRIES = 10_000;

/** `walaudit-entries-20260301T100000Z.csv`: sorts by when it was taken. */
const fileName = (stem: string, extension: string, at: Date) => `walaudit-${stem}-${at.toISOString().replace(/[-:]|\.\d+/g, '')}.${extension}`;

/**
 * Exports of any filter of the audit trail: CSV and JSON lines streamed a page at a time (memory
 * stays flat whatever the size), and a bounded PDF report that states whether the hash chains of
 * its entries verify. Exporting is a viewer's right.
 */
export const exportsRoutes: FastifyPluginAsyncZod<{ deps: ApiServerDeps }> = async (app, { deps }) => {
  const warn = (message: string) => deps.log?.warn(message);

  app.get(
    '/api/exports/entries.csv',
    {
      schema: { tags: ['exports'], summary: 'Every entry the filter matches as CSV (RFC 4180, header row), newest first, streamed', querystring: entryFilterQuery, response: { 200: z.unknown().describe('text/csv; columns in docs/api.md#exports'), ...errors } },
      config: { role: 'viewer' },
    },
    async (request, reply) => {
      const queries = queriesOf(deps);
      const opened = await openExport(queries.exportCsvRecords(toEntryFilter(request.query)));
      return reply
        .type('text/csv; charset=utf-8; header=present')
        .header('content-disposition', `attachment; filename="${fileName('entries', 'csv', new Date())}"`)
        .send(exportStream(csvChunks(pagesOf(opened), queries), warn));
    },
  );

  app.get(
    '/api/exports/entries.jsonl',
    {
      schema: { tags: ['exports'], summary: 'Every entry the filter matches as JSON lines (one entry per line, as GET /api/entries gives it), newest first, streamed', querystring: entryFilterQuery, response: { 200: z.unknown().describe('application/jsonl'), ...errors } },
      config: { role: 'viewer' },
    },
    async (request, reply) => {
      const queries = queriesOf(deps);
      const opened = await openExport(queries.exportJsonLines(toEntryFilter(request.query)));
      return reply
        .type('application/jsonl; charset=utf-8')
        .header('content-disposition', `attachment; filename="${fileName('entries', 'jsonl', new Date())}"`)
        .send(exportStream(jsonLineChunks(pagesOf(opened)), warn));
    },
  );

  app.get(
    '/api/exports/report.pdf',
    {
      schema: {
        tags: ['exports'],
        summary: 'A PDF audit report of the entries the filter matches, with the verification of their hash chains (at most report.maxEntries entries)',
        querystring: reportQuery,
        response: { 200: z.unknown().describe('application/pdf'), ...errors, 422: errorSchema },
      },
      config: { role: 'viewer' },
    },
    async (request, reply) => {
      const store = storeOf(deps);
      const queries = queriesOf(deps);
      const generatedAt = new Date();
      const filter = toEntryFilter(request.query);
      const max = deps.report?.maxEntries ?? DEFAULT_MAX_REPORT_ENTRIES;
      const entries = await boundedEntries(queries, filter, max);
      const caused = entries.filter((entry) => entry.op === 'delete' || entry.op === 'update').map((entry) => entry.id);
      const [parents, check] = await Promise.all([caused.length > 0 ? queries.cascadeParents(caused) : new Map<string, string>(), verifyCoveredChains(store, entries)]);
      const principal = principalOf(request);
      const pdf = await renderReport({
        organisation: deps.report?.organisation ?? '',
        generatedBy: { name: principal.name, role: principal.role },
        generatedAt,
        filter: filterInWords(filter),
        verification: verificationInWords(check),
        verified: check.report.ok && check.unseen === 0,
        entries,
        cascadeParents: parents,
        snapshots: request.query.snapshots === '1' || request.query.snapshots === 'true',
        fontFile: deps.report?.fontFile,
      });
      return reply.type('application/pdf').header('content-disposition', `attachment; filename="${fileName('report', 'pdf', generatedAt)}"`).send(pdf);
    },
  );
};

/** The entries of a report, refused past `max`: a report is built in memory, and read by people. */
async function boundedEntries(queries: AuditQueries, filter: ReturnType<typeof toEntryFilter>, max: number): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  for await (const page of queries.exportEntries(filter, { pageRows: Math.min(5_000, max + 1) })) {
    entries.push(...page);
    if (entries.length > max) {
      throw new WalauditError(
        'REPORT_TOO_LARGE',
        `the filter matches more than ${max} entries, the most one PDF report holds (report.maxEntries): narrow it (from, to, table, actor), or export them all as CSV (/api/exports/entries.csv, walaudit export --format csv)`,
      );
    }
  }
  return entries;
}
