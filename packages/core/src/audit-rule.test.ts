import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { applyAuditRules, AUDIT_EVERYTHING, findRule, REDACTED, tableMatches, type RuleContext } from './audit-rule.js';
import type { ChangeEvent, ChangeOp } from './change-event.types.js';
import { auditRuleSchema, type AuditRule } from './config.schema.js';

/** A rule as the config schema produces it, defaults filled in. */
function rule(input: z.input<typeof auditRuleSchema> = {}): AuditRule {
  return auditRuleSchema.parse(input);
}

function context(rules: AuditRule[], extra: Partial<RuleContext> = {}): RuleContext {
  return { rules, defaultRetentionDays: 90, ...extra };
}

function event(overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    id: '0000000001796738-0',
    op: 'update',
    schema: 'public',
    table: 'users',
    keyKind: 'primary-key',
    pk: { id: '7' },
    columns: [
      { name: 'id', type: 'int8', typeOid: 20 },
      { name: 'email', type: 'text', typeOid: 25 },
      { name: 'ssn', type: 'text', typeOid: 25 },
      { name: 'note', type: 'text', typeOid: 25 },
    ],
    before: { id: '7', email: 'a@example.com', ssn: '123-45-6789', note: null },
    after: { id: '7', email: 'b@example.com', ssn: '123-45-6789', note: 'hi' },
    changed: ['email', 'note'],
    tx: { xid: 731, lsn: '0/1796738', commitTime: '2024-05-06T07:08:09.123456Z', seq: 0 },
    actor: { app: { user: 'alice' } },
    ...overrides,
  };
}

const hmac = (key: string, value: string) => `hmac-sha256:${createHmac('sha256', key).update(value, 'utf8').digest('hex')}`;

describe('tableMatches', () => {
  it('reads a bare name as a table of the public schema', () => {
    expect(tableMatches('users', 'public', 'users')).toBe(true);
    expect(tableMatches('users', 'app', 'users')).toBe(false);
    expect(tableMatches('users', 'public', 'users2')).toBe(false);
    expect(tableMatches('users', 'public', 'my_users')).toBe(false);
  });

  it('matches a qualified name in its schema only', () => {
    expect(tableMatches('app.users', 'app', 'users')).toBe(true);
    expect(tableMatches('app.users', 'public', 'users')).toBe(false);
  });

  it('lets `*` alone match every table of every schema', () => {
    expect(tableMatches('*', 'public', 'users')).toBe(true);
    expect(tableMatches('*', 'billing', 'invoices')).toBe(true);
    expect(tableMatches('*', 'a.b', 'c')).toBe(true);
  });

  it('lets `*` match any run of characters inside a pattern', () => {
    expect(tableMatches('app.*', 'app', 'orders')).toBe(true);
    expect(tableMatches('app.*', 'public', 'orders')).toBe(false);
    expect(tableMatches('*.users', 'app', 'users')).toBe(true);
    expect(tableMatches('*.users', 'public', 'users')).toBe(true);
    expect(tableMatches('*.users', 'public', 'orders')).toBe(false);
    expect(tableMatches('user*', 'public', 'users')).toBe(true);
    expect(tableMatches('user*', 'public', 'user')).toBe(true);
    expect(tableMatches('user*', 'app', 'users')).toBe(false);
    expect(tableMatches('public.*_log', 'public', 'audit_log')).toBe(true);
    expect(tableMatches('public.*_log', 'public', 'audit_logs')).toBe(false);
  });

  it('takes every other character literally', () => {
    expect(tableMatches('public.a.c', 'public', 'abc')).toBe(false);
    expect(tableMatches('public.a.c', 'public', 'a.c')).toBe(true);
    expect(tableMatches('public.a+b', 'public', 'aab')).toBe(false);
    expect(tableMatches('public.a+b', 'public', 'a+b')).toBe(true);
    expect(tableMatches('t(1)', 'public', 't(1)')).toBe(true);
    expect(tableMatches('t?', 'public', 't')).toBe(false);
    expect(tableMatches('[ab]', 'public', 'a')).toBe(false);
    expect(tableMatches('$x^', 'public', '$x^')).toBe(true);
  });

  it('is case-sensitive, as quoted Postgres names are', () => {
    expect(tableMatches('Users', 'public', 'users')).toBe(false);
    expect(tableMatches('Users', 'public', 'Users')).toBe(true);
  });
});

describe('findRule', () => {
  it('falls back to auditing everything when no rule is configured', () => {
    expect(findRule([], 'any', 'table')).toBe(AUDIT_EVERYTHING);
  });

  it('returns the first rule with a matching pattern', () => {
    const orders = rule({ tables: ['orders'], critical: true });
    const app = rule({ tables: ['app.*', 'public.payments'] });
    const all = rule({ tables: ['*'] });
    const rules = [orders, app, all];
    expect(findRule(rules, 'public', 'orders')).toBe(orders);
    expect(findRule(rules, 'app', 'orders')).toBe(app);
    expect(findRule(rules, 'public', 'payments')).toBe(app);
    expect(findRule(rules, 'public', 'users')).toBe(all);
  });

  it('returns undefined when rules are configured and none matches', () => {
    expect(findRule([rule({ tables: ['orders'] })], 'public', 'users')).toBeUndefined();
  });
});

describe('AUDIT_EVERYTHING', () => {
  it('covers every table and operation without masking', () => {
    expect(AUDIT_EVERYTHING).toEqual({
      tables: ['*'],
      operations: ['insert', 'update', 'delete', 'truncate'],
      excludeColumns: [],
      mask: [],
      critical: false,
      audit: true,
    });
    expect(rule()).toEqual(AUDIT_EVERYTHING);
  });
});

describe('applyAuditRules', () => {

  it("keeps walaudit's own actions (no table) when no rule matches every table", () => {
    const ack = event({ op: 'action', schema: '', table: '', pk: null, columns: [], before: null, after: null, changed: [], action: { name: 'alerts.ack' } });
    const onlyOrders = context([rule({ tables: ['orders'] })]);
    expect(applyAuditRules(ack, onlyOrders)).toEqual({ event: ack, retentionDays: 90, critical: false });
    // An action that names a table follows that table's rule.
    expect(applyAuditRules({ ...ack, schema: 'public', table: 'users' }, onlyOrders)).toBeNull();
  });
  it('audits everything, unchanged, with the default retention when no rule is configured', () => {
    const e = event();
    const result = applyAuditRules(e, context([], { defaultRetentionDays: 45 }));
    expect(result).toEqual({ event: e, retentionDays: 45, critical: false });
    expect(result?.event).toBe(e);
  });

  it.each<ChangeOp>(['insert', 'update', 'delete', 'truncate', 'action', 'schema'])('keeps a %s event without rules', (op) => {
    expect(applyAuditRules(event({ op }), context([]))?.event.op).toBe(op);
  });

  it('applies the first matching rule only', () => {
    const rules = [
      rule({ tables: ['users'], critical: true, retentionDays: 7, excludeColumns: ['note'] }),
      rule({ tables: ['*'], retentionDays: 30, excludeColumns: ['email'] }),
    ];
    const users = applyAuditRules(event(), context(rules));
    expect(users?.critical).toBe(true);
    expect(users?.retentionDays).toBe(7);
    expect(users?.event.after).toEqual({ id: '7', email: 'b@example.com', ssn: '123-45-6789' });

    const orders = applyAuditRules(event({ table: 'orders' }), context(rules));
    expect(orders?.critical).toBe(false);
    expect(orders?.retentionDays).toBe(30);
    expect(orders?.event.after).toEqual({ id: '7', ssn: '123-45-6789', note: 'hi' });
  });

  it('drops every change of a table whose rule says audit: false, even before a catch-all', () => {
    const rules = [rule({ tables: ['users'], audit: false }), rule({ tables: ['*'] })];
    expect(applyAuditRules(event(), context(rules))).toBeNull();
    expect(applyAuditRules(event({ op: 'delete' }), context(rules))).toBeNull();
    expect(applyAuditRules(event({ schema: 'app' }), context(rules))).not.toBeNull();
  });

  it('drops an event no configured rule matches', () => {
    expect(applyAuditRules(event({ table: 'sessions' }), context([rule({ tables: ['users'] })]))).toBeNull();
  });

  it('keeps only the operations the rule lists', () => {
    const rules = [rule({ tables: ['users'], operations: ['delete', 'truncate'] })];
    expect(applyAuditRules(event({ op: 'insert' }), context(rules))).toBeNull();
    expect(applyAuditRules(event({ op: 'update' }), context(rules))).toBeNull();
    expect(applyAuditRules(event({ op: 'delete' }), context(rules))?.event.op).toBe('delete');
    expect(applyAuditRules(event({ op: 'truncate', pk: null, before: null, after: null }), context(rules))?.event.op).toBe('truncate');
  });

  it('keeps action and schema entries whatever operations the rule lists', () => {
    const rules = [rule({ tables: ['users'], operations: ['delete'] })];
    expect(applyAuditRules(event({ op: 'action' }), context(rules))?.event.op).toBe('action');
    expect(applyAuditRules(event({ op: 'schema' }), context(rules))?.event.op).toBe('schema');
  });

  it("uses the rule's retention over the default, including 0 (keep forever)", () => {
    expect(applyAuditRules(event(), context([rule({ retentionDays: 365 })]))?.retentionDays).toBe(365);
    expect(applyAuditRules(event(), context([rule({ retentionDays: 0 })]))?.retentionDays).toBe(0);
    expect(applyAuditRules(event(), context([rule()], { defaultRetentionDays: 12 }))?.retentionDays).toBe(12);
    expect(applyAuditRules(event(), context([rule()], { defaultRetentionDays: 0 }))?.retentionDays).toBe(0);
  });

  it('keeps only included columns plus the key columns', () => {
    const result = applyAuditRules(event(), context([rule({ includeColumns: ['email'] })]));
    expect(result?.event.columns.map((c) => c.name)).toEqual(['id', 'email']);
    expect(result?.event.before).toEqual({ id: '7', email: 'a@example.com' });
    expect(result?.event.after).toEqual({ id: '7', email: 'b@example.com' });
    expect(result?.event.pk).toEqual({ id: '7' });
    expect(result?.event.changed).toEqual(['email']);
  });

  it('removes excluded columns from images, columns and changed', () => {
    const result = applyAuditRules(event(), context([rule({ excludeColumns: ['note', 'ssn'] })]));
    expect(result?.event.columns.map((c) => c.name)).toEqual(['id', 'email']);
    expect(result?.event.before).toEqual({ id: '7', email: 'a@example.com' });
    expect(result?.event.after).toEqual({ id: '7', email: 'b@example.com' });
    expect(result?.event.changed).toEqual(['email']);
  });

  it('never drops key columns, even when excluded or not included', () => {
    const excluded = applyAuditRules(event(), context([rule({ excludeColumns: ['id', 'email'] })]));
    expect(excluded?.event.pk).toEqual({ id: '7' });
    expect(excluded?.event.after).toEqual({ id: '7', ssn: '123-45-6789', note: 'hi' });
    expect(excluded?.event.columns.map((c) => c.name)).toEqual(['id', 'ssn', 'note']);

    const notIncluded = applyAuditRules(event(), context([rule({ includeColumns: ['note'] })]));
    expect(notIncluded?.event.before).toEqual({ id: '7', note: null });
    expect(notIncluded?.event.pk).toEqual({ id: '7' });
  });

  it('keeps every column of a composite key', () => {
    const e = event({ pk: { id: '7', email: 'b@example.com' } });
    const result = applyAuditRules(e, context([rule({ includeColumns: ['note'] })]));
    expect(result?.event.after).toEqual({ id: '7', email: 'b@example.com', note: 'hi' });
    expect(result?.event.pk).toEqual({ id: '7', email: 'b@example.com' });
    expect(result?.event.changed).toEqual(['email', 'note']);
  });

  it('filters a full-row key like the row (it has no key columns to protect)', () => {
    const row = { id: '7', email: 'a@example.com', ssn: '123-45-6789', note: null };
    const e = event({ op: 'delete', keyKind: 'full-row', pk: row, before: row, after: null, changed: [] });
    const result = applyAuditRules(e, context([rule({ excludeColumns: ['ssn'] })]));
    expect(result?.event.pk).toEqual({ id: '7', email: 'a@example.com', note: null });
    expect(result?.event.before).toEqual({ id: '7', email: 'a@example.com', note: null });
    expect(result?.event.after).toBeNull();
  });

  it('redacts masked values in before and after, leaving NULL as NULL', () => {
    const result = applyAuditRules(event(), context([rule({ mask: [{ column: 'ssn', mode: 'redact' }, { column: 'note', mode: 'redact' }] })]));
    expect(REDACTED).toBe('[redacted]');
    expect(result?.event.before).toEqual({ id: '7', email: 'a@example.com', ssn: '[redacted]', note: null });
    expect(result?.event.after).toEqual({ id: '7', email: 'b@example.com', ssn: '[redacted]', note: '[redacted]' });
    // a masked column is still listed: it exists and may have changed
    expect(result?.event.columns.map((c) => c.name)).toEqual(['id', 'email', 'ssn', 'note']);
    expect(result?.event.changed).toEqual(['email', 'note']);
  });

  it('defaults a mask to redact', () => {
    const result = applyAuditRules(event(), context([rule({ mask: [{ column: 'email' }] })]));
    expect(result?.event.after?.email).toBe('[redacted]');
  });

  it('masks a key column in pk too', () => {
    const result = applyAuditRules(event(), context([rule({ mask: [{ column: 'id', mode: 'redact' }] })]));
    expect(result?.event.pk).toEqual({ id: '[redacted]' });
    expect(result?.event.before?.id).toBe('[redacted]');
    expect(result?.event.after?.id).toBe('[redacted]');
  });

  it('replaces hash-masked values with a keyed HMAC-SHA-256, equal values staying equal', () => {
    const key = 'k3y';
    const result = applyAuditRules(event(), context([rule({ mask: [{ column: 'ssn', mode: 'hash' }, { column: 'email', mode: 'hash' }, { column: 'id', mode: 'hash' }] })], { hashKey: key }));
    expect(result?.event.before?.ssn).toBe(hmac(key, '123-45-6789'));
    expect(result?.event.after?.ssn).toBe(hmac(key, '123-45-6789'));
    expect(result?.event.before?.email).toBe(hmac(key, 'a@example.com'));
    expect(result?.event.after?.email).toBe(hmac(key, 'b@example.com'));
    expect(result?.event.pk).toEqual({ id: hmac(key, '7') });
    expect(result?.event.after?.note).toBe('hi');
    expect(result?.event.after?.ssn).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    // pinned: HMAC-SHA-256(key "k3y", "7")
    expect(hmac(key, '7')).toBe(`hmac-sha256:${createHmac('sha256', Buffer.from('k3y')).update(Buffer.from('7')).digest('hex')}`);
  });

  it('gives different hashes under different keys', () => {
    const mask = [rule({ mask: [{ column: 'ssn', mode: 'hash' }] })];
    const a = applyAuditRules(event(), context(mask, { hashKey: 'one' }));
    const b = applyAuditRules(event(), context(mask, { hashKey: 'two' }));
    expect(a?.event.after?.ssn).not.toBe(b?.event.after?.ssn);
    expect(a?.event.after?.ssn).not.toContain('123-45-6789');
  });

  it('hashes non-ASCII values as UTF-8', () => {
    const e = event({ after: { id: '7', email: 'zoë@example.com', ssn: null, note: null } });
    const result = applyAuditRules(e, context([rule({ mask: [{ column: 'email', mode: 'hash' }] })], { hashKey: 'k' }));
    expect(result?.event.after?.email).toBe(`hmac-sha256:${createHmac('sha256', 'k').update(Buffer.from('zoë@example.com', 'utf8')).digest('hex')}`);
    expect(result?.event.after?.ssn).toBeNull();
  });

  it('combines include, exclude and mask', () => {
    const result = applyAuditRules(
      event(),
      context([rule({ includeColumns: ['email', 'ssn'], excludeColumns: ['email'], mask: [{ column: 'ssn', mode: 'redact' }] })]),
    );
    expect(result?.event.after).toEqual({ id: '7', ssn: '[redacted]' });
    expect(result?.event.before).toEqual({ id: '7', ssn: '[redacted]' });
    expect(result?.event.changed).toEqual([]);
  });

  it('keeps null images null and leaves other fields alone', () => {
    const e = event({ op: 'insert', before: null, changed: [] });
    const result = applyAuditRules(e, context([rule({ excludeColumns: ['note'] })]));
    expect(result?.event.before).toBeNull();
    expect(result?.event.after).toEqual({ id: '7', email: 'b@example.com', ssn: '123-45-6789' });
    expect(result?.event.id).toBe(e.id);
    expect(result?.event.tx).toEqual(e.tx);
    expect(result?.event.actor).toEqual(e.actor);
  });

  it('does not modify the event it is given', () => {
    const e = event();
    const copy = structuredClone(e);
    applyAuditRules(e, context([rule({ excludeColumns: ['note'], mask: [{ column: 'ssn', mode: 'redact' }] })]));
    expect(e).toEqual(copy);
  });
});
