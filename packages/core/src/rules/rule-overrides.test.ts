import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { applyAuditRules } from '../audit-rule.js';
import type { ChangeEvent } from '../change-event.types.js';
import { auditRuleSchema, type AuditRule } from '../config.schema.js';
import { LiveRules } from './live-rules.js';
import type { RuleChange, RuleChangeAction } from './rule-change.types.js';
import { currentOverrides, effectiveRetention, mergeOverrides, qualifyTable } from './rule-overrides.js';

function rule(input: z.input<typeof auditRuleSchema> = {}): AuditRule {
  return auditRuleSchema.parse(input);
}

let seq = 0;
function change(action: RuleChangeAction, table: string, extra: Partial<RuleChange> = {}): RuleChange {
  seq++;
  return { id: seq.toString(16).padStart(16, '0'), action, table, by: 'dana', role: 'manager', at: '2026-01-01T00:00:00.000Z', ...extra };
}

function event(table: string, extra: Partial<ChangeEvent> = {}): ChangeEvent {
  const [schema, name] = table.split('.') as [string, string];
  return {
    id: '0000000001796738-0',
    op: 'delete',
    schema,
    table: name,
    keyKind: 'primary-key',
    pk: { id: '1' },
    columns: [
      { name: 'id', type: 'int4', typeOid: 23 },
      { name: 'ssn', type: 'text', typeOid: 25 },
    ],
    before: { id: '1', ssn: '123' },
    after: null,
    changed: [],
    tx: { xid: 7, lsn: '0/10', commitTime: '2026-01-01T00:00:00.000000Z', seq: 0 },
    actor: {},
    ...extra,
  };
}

const context = (rules: readonly AuditRule[]) => ({ rules, defaultRetentionDays: 90 });

describe('run-time rule overrides', () => {
  it('names one table: bare names are in public, patterns are refused', () => {
    expect(qualifyTable('orders')).toBe('public.orders');
    expect(qualifyTable(' sales.orders ')).toBe('sales.orders');
    expect(() => qualifyTable('order*')).toThrow(/not a table name/);
    expect(() => qualifyTable('')).toThrow(/not a table name/);
  });

  it('replays the history: the last of exclude and watch wins, an undo takes back only what it names', () => {
    const history = [change('exclude', 'public.a'), change('watch', 'public.b'), change('undo-exclude', 'public.b'), change('retention-set', 'public.c', { days: 7 })];
    expect([...currentOverrides(history).values()]).toEqual([
      { table: 'public.a', mode: 'exclude' },
      { table: 'public.b', mode: 'watch' },
      { table: 'public.c', retentionDays: 7 },
    ]);
    const undone = currentOverrides([...history, change('undo-watch', 'public.b'), change('retention-unset', 'public.c'), change('watch', 'public.a')]);
    expect([...undone.values()]).toEqual([{ table: 'public.a', mode: 'watch' }]);
  });

  it('excluding a table drops it and only it; with no config rules, every other table is still audited', () => {
    const merged = mergeOverrides([], currentOverrides([change('exclude', 'public.orders')]));
    expect(applyAuditRules(event('public.orders'), context(merged))).toBeNull();
    expect(applyAuditRules(event('public.order_lines'), context(merged))).not.toBeNull();
    expect(applyAuditRules(event('sales.orders'), context(merged))).not.toBeNull();
  });

  it('watching a table makes it critical and keeps what the config does to it (masks, retention)', () => {
    const config = [rule({ tables: ['users'], mask: [{ column: 'ssn', mode: 'redact' }], retentionDays: 30 }), rule({ tables: ['*'] })];
    const merged = mergeOverrides(config, currentOverrides([change('watch', 'public.users')]));
    const kept = applyAuditRules(event('public.users'), context(merged));
    expect(kept).toMatchObject({ critical: true, retentionDays: 30 });
    expect(kept!.event.before!.ssn).toBe('[redacted]');
    expect(applyAuditRules(event('public.other'), context(merged))!.critical).toBe(false);
  });

  it('watching a table the config does not audit audits it, critical', () => {
    const config = [rule({ tables: ['users'] })];
    expect(applyAuditRules(event('public.payments'), context(config))).toBeNull();
    const merged = mergeOverrides(config, currentOverrides([change('watch', 'public.payments')]));
    expect(applyAuditRules(event('public.payments'), context(merged))).toMatchObject({ critical: true, retentionDays: 90 });
  });

  it('a retention override changes the days of that table only; an excluded table stays excluded', () => {
    const config = [rule({ tables: ['*'], retentionDays: 30 })];
    const overrides = currentOverrides([change('retention-set', 'public.orders', { days: 3650 }), change('retention-set', 'public.gone', { days: 1 }), change('exclude', 'public.gone')]);
    const merged = mergeOverrides(config, overrides);
    expect(applyAuditRules(event('public.orders'), context(merged))!.retentionDays).toBe(3650);
    expect(applyAuditRules(event('public.other'), context(merged))!.retentionDays).toBe(30);
    expect(applyAuditRules(event('public.gone'), context(merged))).toBeNull();
  });

  it('undoing every override gives back the config list itself', () => {
    const config = [rule({ tables: ['users'] })];
    const overrides = currentOverrides([change('exclude', 'public.users'), change('undo-exclude', 'public.users')]);
    expect(mergeOverrides(config, overrides)).toBe(config);
  });

  it('says where each table retention comes from: override, rule or default', () => {
    const config = [rule({ tables: ['payments'], retentionDays: 3650 }), rule({ tables: ['logs_*'], audit: false }), rule({ tables: ['*'] })];
    const overrides = currentOverrides([change('retention-set', 'public.orders', { days: 7 })]);
    expect(effectiveRetention(config, overrides, 90, ['public.users', 'public.logs_1'])).toEqual([
      { table: 'public.logs_1', days: null, from: 'default' },
      { table: 'public.orders', days: 7, from: 'override' },
      { table: 'public.payments', days: 3650, from: 'rule', rule: { index: 0, tables: ['payments'] } },
      { table: 'public.users', days: 90, from: 'default' },
    ]);
  });
});

describe('LiveRules', () => {
  const action = (id: string, table = 'public.orders') => event(table, { op: 'action', pk: null, before: null, action: { name: 'rules.exclude', change: id } });

  it('applies a registered change when its action passes, keeping that action whatever the rules', () => {
    const live = new LiveRules([], 90, undefined);
    const exclude = change('exclude', 'public.orders');
    live.expect(exclude);
    expect(applyAuditRules(event('public.orders'), live)).not.toBeNull();
    const before = live.rules;
    expect(applyAuditRules(action(exclude.id), live)).not.toBeNull();
    expect(live.rules).not.toBe(before);
    expect(applyAuditRules(event('public.orders'), live)).toBeNull();
    expect(live.pending(exclude.id)).toBe(false);
    // Its action again (a replay) is still kept, and changes nothing.
    expect(applyAuditRules(action(exclude.id), live)).not.toBeNull();
  });

  it('ignores a rules action nobody registered: a message written into the WAL switches nothing off', () => {
    const live = new LiveRules([], 90, undefined);
    expect(live.observe(action('ffffffffffffffff'))).toBe(false);
    expect(applyAuditRules(event('public.orders'), live)).not.toBeNull();
  });

  it('looks up in the store a change it was not told about (a distributed reader), and applies only what is stored', async () => {
    const stored = change('exclude', 'public.orders');
    const ignored: string[] = [];
    const live = new LiveRules([], 90, undefined, [], { lookup: async (id) => (id === stored.id ? stored : null), onIgnored: (id) => ignored.push(id) });
    const forged = action('ffffffffffffffff');
    const mismatched = event('public.notes', { op: 'action', pk: null, before: null, action: { name: 'rules.exclude', change: stored.id } });
    await live.prepare([forged, mismatched, event('public.orders')]);
    expect(ignored).toEqual(['ffffffffffffffff', stored.id]);
    expect(applyAuditRules(mismatched, live)).not.toBeNull();
    expect(applyAuditRules(event('public.notes'), live)).not.toBeNull();
    expect(applyAuditRules(event('public.orders'), live)).not.toBeNull();

    const batch = [event('public.orders'), action(stored.id), event('public.orders')];
    await live.prepare(batch);
    expect(batch.map((item) => applyAuditRules(item, live) !== null)).toEqual([true, true, false]);
  });

  it('starts from the stored history, and keeps the actions of changes in it', () => {
    const exclude = change('exclude', 'public.orders');
    const live = new LiveRules([], 90, undefined, [exclude]);
    expect(applyAuditRules(event('public.orders'), live)).toBeNull();
    expect(applyAuditRules(action(exclude.id), live)).not.toBeNull();
  });
});
