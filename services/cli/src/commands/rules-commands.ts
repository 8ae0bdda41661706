import { WalauditError, type AuditRule, type RuleChange, type TableOverride, type WalauditConfig } from '@walaudit/core';
import { askRunningInstance } from '../running-instance.js';

interface RulesView {
  configRules: AuditRule[];
  overrides: TableOverride[];
  history: (RuleChange & { pending: boolean })[];
}

interface ChangeAnswer {
  change: RuleChange;
  overrides: TableOverride[];
}

interface RetentionView {
  defaultDays: number;
  tables: { table: string; days: number | null; from: 'override' | 'rule' | 'default'; rule?: { index: number; tables: string[] } }[];
}

/**
 * Rules change in the running pipeline, which applies them in stream order and records them in
 * the trail through the audited database: with no `walaudit start` answering, there is nothing to
 * change (the store alone would apply nothing and record nothing).
 */
async function ask<T>(config: WalauditConfig, path: string, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = init.body ? { 'content-type': 'application/json' } : {};
  const answer = await askRunningInstance<T>(config, path, { ...init, headers });
  if (answer === undefined) {
    throw new WalauditError('SERVER_NOT_RUNNING', `no walaudit start answers on port ${config.http.port}: audit rules change in the running pipeline; start it, or point --http-port at it`);
  }
  return answer;
}

const path = (table: string) => encodeURIComponent(table);

function describeOverride(override: TableOverride): string {
  const what = [override.mode === 'exclude' ? 'excluded (not audited)' : override.mode === 'watch' ? 'watched (critical)' : '', override.retentionDays !== undefined ? `kept ${override.retentionDays === 0 ? 'forever' : `${override.retentionDays} days`}` : '']
    .filter(Boolean)
    .join(', ');
  return `${override.table}  ${what}`;
}

function describeChange(change: RuleChange & { pending?: boolean }): string {
  const days = change.days !== undefined ? ` ${change.days} days` : '';
  const entry = change.entryId ? ` (entry ${change.entryId})` : '';
  return `${change.at.replace('T', ' ').slice(0, 19)}  ${change.action}${days} ${change.table}${entry}  by ${change.by} (${change.role})${change.pending ? '  not yet reached by the pipeline' : ''}`;
}

/** `walaudit rules list [--json]`. */
export async function rulesListCommand(config: WalauditConfig, flags: { json?: boolean }, out: (line: string) => void): Promise<void> {
  const view = await ask<RulesView>(config, '/api/rules');
  if (flags.json) return out(JSON.stringify(view));
  out('run-time overrides (ahead of the config rules, for their table only):');
  if (view.overrides.length === 0) out('  none');
  for (const override of view.overrides) out(`  ${describeOverride(override)}`);
  out(`config rules (first match wins)${view.configRules.length === 0 ? ': none, every table is audited' : ':'}`);
  view.configRules.forEach((rule, index) => {
    const traits = [rule.audit ? rule.operations.join(',') : 'not audited', rule.critical ? 'critical' : '', rule.retentionDays !== undefined ? `${rule.retentionDays} days` : '', rule.mask.length > 0 ? `masks ${rule.mask.map((mask) => mask.column).join(',')}` : '']
      .filter(Boolean)
      .join('; ');
    out(`  ${index}: ${rule.tables.join(', ')}  ${traits}`);
  });
  out('changes, oldest first:');
  if (view.history.length === 0) out('  none');
  for (const change of view.history) out(`  ${describeChange(change)}`);
}

/** `walaudit rules exclude|watch TABLE` or `--entry ID`. */
export async function rulesChangeCommand(config: WalauditConfig, action: 'exclude' | 'watch', table: string | undefined, flags: { entry?: string; json?: boolean }, out: (line: string) => void): Promise<void> {
  if (!table && !flags.entry) throw new WalauditError('CONFIG_INVALID', `name the table to ${action}, or an entry of it with --entry`);
  const answer = await ask<ChangeAnswer>(config, '/api/rules', { method: 'POST', body: JSON.stringify({ action, ...(table ? { table } : {}), ...(flags.entry ? { entryId: flags.entry } : {}) }) });
  if (flags.json) return out(JSON.stringify(answer));
  out(`${answer.change.table} ${action === 'exclude' ? 'is no longer audited' : 'is audited as critical'} from the next transaction on; recorded in the audit trail by ${answer.change.by} (${answer.change.role})`);
}

/** `walaudit rules undo exclude|watch TABLE`. */
export async function rulesUndoCommand(config: WalauditConfig, action: string, table: string, flags: { json?: boolean }, out: (line: string) => void): Promise<void> {
  if (action !== 'exclude' && action !== 'watch') throw new WalauditError('CONFIG_INVALID', `undo takes back an exclude or a watch, not "${action}": walaudit rules undo exclude ${table}`);
  const answer = await ask<ChangeAnswer>(config, `/api/rules/${path(table)}/${action}`, { method: 'DELETE' });
  if (flags.json) return out(JSON.stringify(answer));
  out(`${answer.change.table} follows the config rules again from the next transaction on; recorded in the audit trail by ${answer.change.by} (${answer.change.role})`);
}

/** `walaudit retention list [--json]`. */
export async function retentionListCommand(config: WalauditConfig, flags: { json?: boolean }, out: (line: string) => void): Promise<void> {
  const view = await ask<RetentionView>(config, '/api/retention');
  if (flags.json) return out(JSON.stringify(view));
  out(`default: ${view.defaultDays === 0 ? 'forever' : `${view.defaultDays} days`} (retention.defaultDays)`);
  if (view.tables.length === 0) out('no table in the log or named in the rules yet');
  const width = Math.max(...view.tables.map((table) => table.table.length), 5);
  for (const table of view.tables) {
    const days = table.days === null ? 'not audited' : table.days === 0 ? 'forever' : `${table.days} days`;
    const from = table.from === 'rule' && table.rule ? `rule ${table.rule.index} (${table.rule.tables.join(', ')})` : table.from;
    out(`${table.table.padEnd(width)}  ${days.padEnd(12)}  ${from}`);
  }
}

/** `walaudit retention set TABLE DAYS` and `walaudit retention unset TABLE`. */
export async function retentionChangeCommand(config: WalauditConfig, table: string, days: string | undefined, flags: { json?: boolean }, out: (line: string) => void): Promise<void> {
  let answer: ChangeAnswer;
  if (days === undefined) answer = await ask<ChangeAnswer>(config, `/api/retention/${path(table)}`, { method: 'DELETE' });
  else {
    if (!/^\d+$/.test(days)) throw new WalauditError('CONFIG_INVALID', `days must be a whole number (0 keeps forever), not "${days}"`);
    answer = await ask<ChangeAnswer>(config, `/api/retention/${path(table)}`, { method: 'PUT', body: JSON.stringify({ days: Number(days) }) });
  }
  if (flags.json) return out(JSON.stringify(answer));
  const kept = days === undefined ? 'the config rule or the default again' : Number(days) === 0 ? 'forever' : `${days} days`;
  out(`the next entries of ${answer.change.table} are kept ${kept}; entries already stored keep their retention; recorded in the audit trail by ${answer.change.by} (${answer.change.role})`);
}
