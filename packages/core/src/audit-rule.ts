import { createHmac } from 'node:crypto';
import type { AuditRule } from './config.schema.js';
import type { ChangeEvent, RowImage } from './change-event.types.js';
import { globMatches } from './glob.js';

/** The default when no rule is configured: every table, every operation, no masking. */
export const AUDIT_EVERYTHING: AuditRule = {
  tables: ['*'],
  operations: ['insert', 'update', 'delete', 'truncate'],
  excludeColumns: [],
  mask: [],
  critical: false,
  audit: true,
};

export interface RuleContext {
  /** Read at every event: a context may swap it for a new list at run time (LiveRules). */
  readonly rules: readonly AuditRule[];
  readonly defaultRetentionDays: number;
  readonly hashKey?: string;
  /**
   * Sees every event before the rules do (LiveRules applies run-time rule changes in stream
   * order here); true keeps the event whatever the rules say.
   */
  observe?(event: ChangeEvent): boolean;
  /**
   * Awaited by withAuditRules before the rules run on a batch: LiveRules looks up there, in the
   * store, the run-time rule changes of the batch it was not told about (distributed reader).
   */
  prepare?(events: readonly ChangeEvent[]): Promise<void>;
}

export interface AuditedEvent {
  event: ChangeEvent;
  retentionDays: number;
  critical: boolean;
}

export const REDACTED = '[redacted]';

export function tableMatches(pattern: string, schema: string, table: string): boolean {
  // A bare name means the public schema, except `*`, which means every table in every schema.
  const qualified = pattern === '*' || pattern.includes('.') ? pattern : `public.${pattern}`;
  return globMatches(qualified, `${schema}.${table}`);
}

const ruleCache = new WeakMap<readonly AuditRule[], Map<string, AuditRule | null>>();
const NO_RULES: readonly AuditRule[] = [AUDIT_EVERYTHING];

export function findRule(rules: readonly AuditRule[], schema: string, table: string): AuditRule | undefined {
  // Every row of a table asks the same question: answer it once per table and rule list.
  let byTable = ruleCache.get(rules);
  if (!byTable) ruleCache.set(rules, (byTable = new Map()));
  const key = `${schema}.${table}`;
  let rule = byTable.get(key);
  if (rule === undefined) {
    const effective = rules.length > 0 ? rules : NO_RULES;
    rule = effective.find((candidate) => candidate.tables.some((pattern) => tableMatches(pattern, schema, table))) ?? null;
    byTable.set(key, rule);
  }
  return rule ?? undefined;
}

/**
 * Applies the first matching rule to an event: drops it (null) or returns it with columns
 * filtered and masked. Runs before hashing and storing, so masked values never reach the store.
 */
export function applyAuditRules(event: ChangeEvent, context: RuleContext): AuditedEvent | null {
  if (context.observe?.(event)) return { event, retentionDays: context.defaultRetentionDays, critical: false };
  // An action that names no table is walaudit's own record (an acknowledgement, a token change, a
  // restore, a gap): no table rule speaks for it, and a rule list without `*` must not drop it.
  if (event.op === 'action' && event.table === '') return { event, retentionDays: context.defaultRetentionDays, critical: false };
  const rule = findRule(context.rules, event.schema, event.table);
  if (!rule || !rule.audit) return null;
  if (isRowOp(event.op) && !rule.operations.includes(event.op)) return null;
  const retentionDays = rule.retentionDays ?? context.defaultRetentionDays;
  const shaped = shapeColumns(event, rule, context.hashKey);
  return { event: shaped, retentionDays, critical: rule.critical };
}

function isRowOp(op: ChangeEvent['op']): op is 'insert' | 'update' | 'delete' | 'truncate' {
  return op === 'insert' || op === 'update' || op === 'delete' || op === 'truncate';
}

function shapeColumns(event: ChangeEvent, rule: AuditRule, hashKey: string | undefined): ChangeEvent {
  const keyColumns = new Set(event.keyKind === 'primary-key' && event.pk ? Object.keys(event.pk) : []);
  const include = rule.includeColumns ? new Set(rule.includeColumns) : null;
  const exclude = new Set(rule.excludeColumns);
  const keep = (name: string) => keyColumns.has(name) || ((!include || include.has(name)) && !exclude.has(name));
  const masks = new Map(rule.mask.map((mask) => [mask.column, mask.mode]));
  if (!include && exclude.size === 0 && masks.size === 0) return event;

  const maskValue = (name: string, value: string | null): string | null => {
    const mode = masks.get(name);
    if (value === null || !mode) return value;
    if (mode === 'redact') return REDACTED;
    return `hmac-sha256:${createHmac('sha256', hashKey ?? '').update(value, 'utf8').digest('hex')}`;
  };
  const shapeRow = (row: RowImage | null): RowImage | null => {
    if (!row) return row;
    const shaped: RowImage = {};
    for (const [name, value] of Object.entries(row)) if (keep(name)) shaped[name] = maskValue(name, value);
    return shaped;
  };
  return {
    ...event,
    columns: event.columns.filter((column) => keep(column.name)),
    pk: shapeRow(event.pk),
    before: shapeRow(event.before),
    after: shapeRow(event.after),
    changed: event.changed.filter(keep),
  };
}
