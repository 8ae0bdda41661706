import { AUDIT_EVERYTHING, findRule } from '../audit-rule.js';
import type { AuditRule } from '../config.schema.js';
import { WalauditError } from '../errors.js';
import type { RuleChange, TableOverride } from './rule-change.types.js';

/** Postgres identifiers are at most 63 bytes; a qualified name is two of them and a dot. */
const MAX_QUALIFIED = 127;

/**
 * `orders` -> `public.orders`, `audit.orders` stays. One table, never a pattern: `*` would make an
 * override a glob over other tables, which is what config rules are for.
 */
export function qualifyTable(name: string): string {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > MAX_QUALIFIED || trimmed.includes('*') || trimmed.startsWith('.') || trimmed.endsWith('.')) {
    throw new WalauditError('CONFIG_INVALID', `"${name}" is not a table name: give one table as schema.table, or a table of the public schema by its name (no pattern)`);
  }
  return trimmed.includes('.') ? trimmed : `public.${trimmed}`;
}

function split(qualified: string): [string, string] {
  const dot = qualified.indexOf('.');
  return [qualified.slice(0, dot), qualified.slice(dot + 1)];
}

/** The overrides a change leaves: undo takes back only what it names (an exclude, not a watch). */
export function applyRuleChange(overrides: ReadonlyMap<string, TableOverride>, change: RuleChange): Map<string, TableOverride> {
  const next = new Map(overrides);
  const current: TableOverride = { ...(next.get(change.table) ?? { table: change.table }) };
  switch (change.action) {
    case 'exclude':
    case 'watch':
      current.mode = change.action;
      break;
    case 'undo-exclude':
    case 'undo-watch':
      if (current.mode === change.action.slice('undo-'.length)) delete current.mode;
      break;
    case 'retention-set':
      current.retentionDays = change.days ?? 0;
      break;
    case 'retention-unset':
      delete current.retentionDays;
      break;
  }
  if (current.mode === undefined && current.retentionDays === undefined) next.delete(change.table);
  else next.set(change.table, current);
  return next;
}

/** The overrides now: the history (oldest first) replayed. */
export function currentOverrides(history: readonly RuleChange[]): Map<string, TableOverride> {
  return history.reduce<Map<string, TableOverride>>((overrides, change) => applyRuleChange(overrides, change), new Map());
}

/** What the config rules alone do with a table: its first matching rule, or "not audited". */
function configRuleFor(config: readonly AuditRule[], qualified: string): AuditRule | undefined {
  const [schema, table] = split(qualified);
  return findRule(config, schema, table);
}

const NOT_AUDITED: AuditRule = { ...AUDIT_EVERYTHING, audit: false };

/**
 * The rule list the pipeline applies: one exact-table rule per overridden table, built on what the
 * config does for that table (its masks, excluded columns and operations stay), ahead of the config
 * rules, so the first match is the override for that table and the config for every other. Without
 * overrides the config list itself, so undoing everything gives back exactly the config behaviour.
 */
export function mergeOverrides(config: readonly AuditRule[], overrides: ReadonlyMap<string, TableOverride>): readonly AuditRule[] {
  if (overrides.size === 0) return config;
  const merged: AuditRule[] = [];
  for (const override of overrides.values()) {
    const base = configRuleFor(config, override.table) ?? NOT_AUDITED;
    let rule: AuditRule = { ...base, tables: [override.table] };
    if (override.mode === 'exclude') rule = { ...rule, audit: false };
    // Watching a table the config does not audit audits every operation of it, unmasked.
    if (override.mode === 'watch') rule = { ...(base.audit ? rule : { ...AUDIT_EVERYTHING, tables: [override.table] }), audit: true, critical: true };
    if (override.retentionDays !== undefined) rule = { ...rule, retentionDays: override.retentionDays };
    merged.push(rule);
  }
  // An empty config list means "audit everything" (findRule); once overrides are in front it no
  // longer is empty, so say it.
  return [...merged, ...(config.length > 0 ? config : [AUDIT_EVERYTHING])];
}

export type RetentionSource = 'override' | 'rule' | 'default';

export interface TableRetention {
  table: string;
  /** Days its next entries are kept (0 forever); null when the table is not audited. */
  days: number | null;
  from: RetentionSource;
  /** With `from: 'rule'`: the config rule's index in `rules` and its patterns. */
  rule?: { index: number; tables: string[] };
}

/** The retention each table's next entries get, and whether an override, a config rule or the default decides it. */
export function effectiveRetention(config: readonly AuditRule[], overrides: ReadonlyMap<string, TableOverride>, defaultDays: number, tables: Iterable<string>): TableRetention[] {
  const merged = mergeOverrides(config, overrides);
  const names = [...new Set([...tables, ...overrides.keys(), ...namedInRules(config)])].sort();
  return names.map((table) => {
    const [schema, name] = split(table);
    const rule = findRule(merged, schema, name);
    const audited = Boolean(rule?.audit);
    const override = overrides.get(table)?.retentionDays;
    const days = !audited ? null : (rule!.retentionDays ?? defaultDays);
    if (override !== undefined) return { table, days, from: 'override' as const };
    const configRule = configRuleFor(config, table);
    if (configRule?.retentionDays !== undefined) {
      const index = config.indexOf(configRule);
      return { table, days, from: 'rule' as const, ...(index >= 0 ? { rule: { index, tables: [...configRule.tables] } } : {}) };
    }
    return { table, days, from: 'default' as const };
  });
}

/** Tables the config rules name one by one (patterns with `*` name none). */
function namedInRules(config: readonly AuditRule[]): string[] {
  return config.flatMap((rule) => rule.tables.filter((pattern) => !pattern.includes('*')).map((pattern) => (pattern.includes('.') ? pattern : `public.${pattern}`)));
}
