import { randomBytes } from 'node:crypto';
import { currentOverrides, effectiveRetention, qualifyTable, ruleChangeActionName, WalauditError, type RuleChange, type RuleChangeAction, type TableOverride } from '@walaudit/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiServerDeps, RulesApi } from '../api-deps.js';
import { principalOf } from '../auth/auth-hook.js';
import { changeAnswer, retentionList, rulesList } from './rules-schemas.js';

function rulesOf(deps: ApiServerDeps): RulesApi {
  if (!deps.rules) {
    throw new WalauditError(
      'STORE_NOT_FOUND',
      'run-time rule changes are kept in the store, and this process holds none (a distributed reader): make them through a writer (--services writer or all)',
    );
  }
  return deps.rules;
}

function recorderOf(deps: ApiServerDeps): NonNullable<ApiServerDeps['recordAction']> {
  if (!deps.recordAction) throw new WalauditError('CONFIG_INVALID', 'rule changes are recorded in the audited database: give this process source.url (DATABASE_URL)');
  return deps.recordAction;
}

const tableParam = z.string().min(1).max(127).describe('One table: schema.table, or a table of the public schema by its name');

/** The table an entry is about, for "stop auditing the table of this entry". */
async function tableOfEntry(deps: ApiServerDeps, entryId: string): Promise<string> {
  if (!deps.queries) throw new WalauditError('STORE_NOT_FOUND', 'entries are in the store, and this process holds none: name the table instead');
  const detail = await deps.queries.entryDetail(entryId);
  if (!detail) throw new WalauditError('API_NOT_FOUND', `no entry has id ${entryId} (GET /api/entries lists them)`);
  const { schema, table } = detail.entry;
  if (!table) throw new WalauditError('CONFIG_INVALID', `entry ${entryId} is not about a table (an action without one): name the table instead`);
  return `${schema}.${table}`;
}

export const rulesRoutes: FastifyPluginAsyncZod<{ deps: ApiServerDeps }> = async (app, { deps }) => {
  /** Records, applies (in stream order) and saves one change under the principal. */
  const makeChange = async (request: FastifyRequest, action: RuleChangeAction, table: string, extra: { days?: number; entryId?: string } = {}) => {
    const principal = principalOf(request);
    const rules = rulesOf(deps);
    const record = recorderOf(deps);
    const change: RuleChange = { id: randomBytes(8).toString('hex'), action, table, by: principal.name, role: principal.role, at: new Date().toISOString(), ...extra };
    await rules.change(change, () => record({ name: ruleChangeActionName(action), by: principal.name, role: principal.role, change: change.id, table, ...extra }));
    deps.log?.info(`audit rules: ${action} ${table}${extra.days !== undefined ? ` (${extra.days} days)` : ''} by ${principal.name} (${principal.role})`);
    return { change, overrides: [...currentOverrides(await rules.history()).values()] };
  };

  const overrideOf = async (rules: RulesApi, table: string): Promise<TableOverride | undefined> => currentOverrides(await rules.history()).get(table);

  app.get(
    '/api/rules',
    { schema: { tags: ['rules'], summary: 'The audit rules in effect: the config rules, the run-time overrides ahead of them, and who changed what when', response: { 200: rulesList } }, config: { role: 'viewer' } },
    async () => {
      const rules = rulesOf(deps);
      const history = await rules.history();
      return {
        configRules: [...rules.configRules],
        overrides: [...currentOverrides(history).values()],
        history: history.map((change) => ({ ...change, pending: rules.pending(change.id) })),
      };
    },
  );

  app.post(
    '/api/rules',
    {
      schema: {
        tags: ['rules'],
        summary: 'Stops auditing a table (exclude) or audits it as critical (watch), from the next transaction on; recorded in the audit trail',
        body: z
          .object({
            action: z.enum(['exclude', 'watch']),
            table: tableParam.optional(),
            entryId: z.string().min(1).max(64).optional().describe('An entry of the table: the table is taken from it'),
          })
          .refine((body) => body.table !== undefined || body.entryId !== undefined, 'give table or entryId'),
        response: { 201: changeAnswer },
      },
      config: { role: 'manager' },
    },
    async (request, reply) => {
      const { action, entryId } = request.body;
      rulesOf(deps);
      let table = request.body.table === undefined ? undefined : qualifyTable(request.body.table);
      if (entryId !== undefined) {
        const ofEntry = await tableOfEntry(deps, entryId);
        if (table !== undefined && table !== ofEntry) throw new WalauditError('CONFIG_INVALID', `entry ${entryId} is of ${ofEntry}, not ${table}: give one of them`);
        table = ofEntry;
      }
      return reply.code(201).send(await makeChange(request, action, table!, entryId !== undefined ? { entryId } : {}));
    },
  );

  app.delete(
    '/api/rules/:table/:action',
    { schema: { tags: ['rules'], summary: 'Takes back an exclude or a watch: the table gets its config rules again from the next transaction on', params: z.object({ table: tableParam, action: z.enum(['exclude', 'watch']) }), response: { 200: changeAnswer } }, config: { role: 'manager' } },
    async (request) => {
      const table = qualifyTable(request.params.table);
      const { action } = request.params;
      const mode = (await overrideOf(rulesOf(deps), table))?.mode;
      if (mode !== action) throw new WalauditError('API_NOT_FOUND', `${table} is not ${action === 'exclude' ? 'excluded' : 'watched'} at run time${mode ? ` (it is ${mode === 'exclude' ? 'excluded' : 'watched'})` : ''}; GET /api/rules lists the overrides`);
      return makeChange(request, action === 'exclude' ? 'undo-exclude' : 'undo-watch', table);
    },
  );

  app.get(
    '/api/retention',
    { schema: { tags: ['rules'], summary: 'Days the next entries of each table are kept, and whether an override, a config rule or the default says so', response: { 200: retentionList } }, config: { role: 'viewer' } },
    async () => {
      const rules = rulesOf(deps);
      const [history, tables] = await Promise.all([rules.history(), rules.tablesInLog()]);
      return { defaultDays: rules.defaultRetentionDays, tables: effectiveRetention(rules.configRules, currentOverrides(history), rules.defaultRetentionDays, tables) };
    },
  );

  app.put(
    '/api/retention/:table',
    {
      schema: {
        tags: ['rules'],
        summary: "Keeps the table's next entries this many days (0: forever), whatever the config rules say; recorded in the audit trail",
        params: z.object({ table: tableParam }),
        body: z.object({ days: z.number().int().min(0).max(65_535).describe('Days after commit; 0 keeps forever') }),
        response: { 200: changeAnswer },
      },
      config: { role: 'manager' },
    },
    async (request) => makeChange(request, 'retention-set', qualifyTable(request.params.table), { days: request.body.days }),
  );

  app.delete(
    '/api/retention/:table',
    { schema: { tags: ['rules'], summary: 'Drops the retention override: the config rule or the default decides again for the next entries', params: z.object({ table: tableParam }), response: { 200: changeAnswer } }, config: { role: 'manager' } },
    async (request) => {
      const table = qualifyTable(request.params.table);
      if ((await overrideOf(rulesOf(deps), table))?.retentionDays === undefined) throw new WalauditError('API_NOT_FOUND', `${table} has no retention override; GET /api/retention lists them`);
      return makeChange(request, 'retention-unset', table);
    },
  );
};
