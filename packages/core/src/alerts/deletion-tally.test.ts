import { describe, expect, it } from 'vitest';
import type { AuditedEvent } from '../audit-rule.js';
import type { Actor, ChangeEvent } from '../change-event.types.js';
import { parseConfig } from '../config.schema.js';
import { createAlertPolicy } from './alert-policy.js';
import { tallyDeletions } from './deletion-tally.js';
import { CriticalDeletions } from './critical-deletions.js';
import { resolveAlertActor } from './alert-actor.js';
import { alertSummary, criticalTableAlert } from './alert-builder.js';
import { inQuietHours } from './quiet-hours.js';

const dbActor: Actor = { db: { user: 'postgres', ip: '10.0.0.7', applicationName: 'psql', statement: 'DELETE FROM orders' } };

function deleteEvent(xid: number, seq: number, table = 'orders', actor: Actor = dbActor, op: ChangeEvent['op'] = 'delete'): ChangeEvent {
  const lsn = `0/${(0x1000 + xid).toString(16).toUpperCase()}`;
  return {
    id: `${(0x1000 + xid).toString(16).toUpperCase().padStart(16, '0')}-${seq}`,
    op,
    schema: 'public',
    table,
    keyKind: 'primary-key',
    pk: { id: String(seq) },
    columns: [],
    before: { id: String(seq) },
    after: null,
    changed: [],
    tx: { xid, lsn, commitTime: '2026-11-24T10:00:00.123456Z', seq },
    actor,
  };
}

const audited = (events: ChangeEvent[], critical = false): AuditedEvent[] => events.map((event) => ({ event, retentionDays: 90, critical }));
const policyOf = (alerts: object = {}) => createAlertPolicy(parseConfig({ alerts }).alerts);

describe('resolveAlertActor', () => {
  it('prefers the application user, else the database user', () => {
    expect(resolveAlertActor({ app: { user: 'alice@example.com', ip: '1.2.3.4' }, db: dbActor.db })).toEqual({
      name: 'alice@example.com', appUser: 'alice@example.com', dbUser: 'postgres', ip: '10.0.0.7', applicationName: 'psql', traceId: null,
    });
    expect(resolveAlertActor(dbActor).name).toBe('postgres');
    expect(resolveAlertActor({ app: { ip: '1.2.3.4' } })).toMatchObject({ name: 'unknown', ip: '1.2.3.4' });
  });
});

describe('tallyDeletions', () => {
  it('folds one transaction\'s rows on one table into one tally, without keeping them', () => {
    const events = Array.from({ length: 10_000 }, (_, seq) => deleteEvent(5, seq));
    const [tally, ...rest] = tallyDeletions(audited(events), policyOf());
    expect(rest).toHaveLength(0);
    expect(tally!.deletion).toMatchObject({ rows: 10_000, xid: 5, table: 'public.orders', firstEntryId: events[0]!.id, lastEntryId: events.at(-1)!.id });
    expect(tally!.keys).toEqual([]);
    expect(tally!.windowKey).toBe('postgres\u0000default');
  });

  it('keeps the keys of the first 20 rows of a critical table', () => {
    const [tally] = tallyDeletions(audited(Array.from({ length: 100 }, (_, seq) => deleteEvent(6, seq)), true), policyOf());
    expect(tally!.policy.critical).toBe(true);
    expect(tally!.keys).toHaveLength(20);
    expect(tally!.keys[19]).toEqual({ id: '19' });
  });

  it('splits by table and transaction, ignores inserts, excluded actors and (by default) truncates', () => {
    const cleanup: Actor = { db: { user: 'nightly_cleanup', ip: null, applicationName: 'cron', statement: '' } };
    const events = [deleteEvent(7, 0), deleteEvent(7, 1, 'customers'), deleteEvent(8, 0), deleteEvent(9, 0, 'orders', dbActor, 'insert'), deleteEvent(10, 0, 'orders', cleanup), deleteEvent(11, 0, 'orders', dbActor, 'truncate')];
    const tallies = tallyDeletions(audited(events), policyOf({ excludeActors: ['nightly_*'] }));
    expect(tallies.map((tally) => [tally.deletion.xid, tally.deletion.table])).toEqual([[7, 'public.orders'], [7, 'public.customers'], [8, 'public.orders']]);
    const withTruncate = tallyDeletions(audited([deleteEvent(11, 0, 'orders', dbActor, 'truncate')]), policyOf({ operations: ['delete', 'truncate'] }));
    expect(withTruncate[0]!.deletion).toMatchObject({ allRows: true, rows: 0 });
  });

  it('applies per-table overrides: own threshold, own window, critical mark', () => {
    const policy = policyOf({ tables: [{ tables: ['audit_*'], threshold: 0 }, { tables: ['payments'], threshold: 5, windowMinutes: 1, critical: true }] });
    expect(policy.forTable('public', 'audit_trail', false)).toEqual({ group: 'tables.0', rule: { threshold: 0, windowMs: 600_000 }, critical: false });
    expect(policy.forTable('public', 'payments', false)).toEqual({ group: 'tables.1', rule: { threshold: 5, windowMs: 60_000 }, critical: true });
    expect(policy.forTable('public', 'orders', true)).toEqual({ group: 'default', rule: { threshold: 50, windowMs: 600_000 }, critical: true });
  });

  it('is off when alerts.enabled is false', () => {
    expect(tallyDeletions(audited([deleteEvent(12, 0)]), policyOf({ enabled: false }))).toEqual([]);
  });
});

describe('CriticalDeletions', () => {
  it('raises one alert per transaction per table, grown by later batches', () => {
    const critical = new CriticalDeletions();
    const policy = policyOf();
    const first = tallyDeletions(audited(Array.from({ length: 15 }, (_, seq) => deleteEvent(20, seq)), true), policy)[0]!;
    const second = tallyDeletions(audited(Array.from({ length: 15 }, (_, seq) => deleteEvent(20, seq + 15)), true), policy)[0]!;
    const other = tallyDeletions(audited([deleteEvent(21, 0)], true), policy)[0]!;
    const a = critical.add(first);
    const b = critical.add(second);
    const c = critical.add(other);
    expect([a.kind, b.kind, c.kind]).toEqual(['opened', 'grew', 'opened']);
    expect(b.alert.id).toBe(a.alert.id);
    expect(c.alert.id).not.toBe(a.alert.id);
    expect(b.alert).toMatchObject({ rows: 30, version: 2, xid: 20 });
    expect(b.alert.keys).toHaveLength(20);
    const alert = criticalTableAlert(b.alert, first.actor);
    expect(alert).toMatchObject({ kind: 'critical-table', xid: 20, window: null, firstEntryId: first.deletion.firstEntryId, lastEntryId: second.deletion.lastEntryId });
    expect(alertSummary(alert)).toBe(`[walaudit] critical table: postgres from 10.0.0.7 (psql) deleted 30 rows in transaction 20: public.orders 30 rows; alert ${alert.id}`);
  });
});

describe('alerts config', () => {
  it('has defaults: 50 rows, 10 minutes, deletes only, quiet hours off', () => {
    expect(parseConfig({}).alerts).toMatchObject({ enabled: true, threshold: 50, windowMinutes: 10, operations: ['delete'], quietHours: '', windowStore: 'memory', excludeActors: [] });
  });

  it('names bad keys: a negative window, an unknown table override field, redis without a URL', () => {
    expect(() => parseConfig({ alerts: { windowMinutes: -5 } })).toThrow(/"alerts.windowMinutes": Too small/);
    expect(() => parseConfig({ alerts: { tables: [{ tables: ['x'], treshold: 5 }] } })).toThrow(/"alerts.tables.0": Unrecognized key: "treshold"/);
    expect(() => parseConfig({ alerts: { windowStore: 'redis' } })).toThrow(/"alerts.redisUrl": windowStore is "redis"/);
    expect(() => parseConfig({ alerts: { quietHours: '25:00-06:00' } })).toThrow(/alerts.quietHours/);
  });
});

describe('inQuietHours', () => {
  it('wraps past midnight and is off when empty', () => {
    expect(inQuietHours('22:00-06:00', new Date('2026-11-24T23:30:00Z'))).toBe(true);
    expect(inQuietHours('22:00-06:00', new Date('2026-11-24T05:59:00Z'))).toBe(true);
    expect(inQuietHours('22:00-06:00', new Date('2026-11-24T06:00:00Z'))).toBe(false);
    expect(inQuietHours('09:00-17:00', new Date('2026-11-24T12:00:00Z'))).toBe(true);
    expect(inQuietHours('', new Date())).toBe(false);
  });
});

describe('alertWindowKey', () => {
  it('names the window of a bulk-delete alert from the alert alone, as the tallies do', async () => {
    const { alertWindowKey } = await import('./alert-policy.js');
    const { bulkDeleteAlert } = await import('./alert-builder.js');
    const { addDeletion } = await import('./window-step.js');
    const policy = policyOf({ tables: [{ tables: ['orders'], threshold: 10 }] });
    const [tally] = tallyDeletions(audited(Array.from({ length: 11 }, (_, seq) => deleteEvent(30, seq))), policy);
    const step = addDeletion(null, tally!.windowKey, tally!.deletion, tally!.policy.rule);
    if (step.outcome.kind === 'below') throw new Error('no alert');
    const alert = bulkDeleteAlert(step.outcome.alert, tally!.actor, tally!.policy.rule);
    expect(alertWindowKey(alert, policy)).toBe(tally!.windowKey);
    expect(alertWindowKey({ ...alert, kind: 'critical-table' }, policy)).toBeNull();
  });
});

describe('tallyDeletions with alerts.countBy', () => {
  const traced = (traceId: string): Actor => ({ ...dbActor, app: { user: 'carol', userFromTag: 'user' }, tags: { user: 'carol' }, traceId });
  const TRACE_A = '4bf92f3577b34da6a3ce929d0e0e4736';
  const TRACE_B = '0af7651916cd43dd8448eb211c80319c';

  it('counts one app user in one window by default, whatever the traces', () => {
    const tallies = tallyDeletions(audited([deleteEvent(5, 0, 'orders', traced(TRACE_A)), deleteEvent(6, 0, 'orders', traced(TRACE_B))]), policyOf());
    expect(new Set(tallies.map((t) => t.windowKey)).size).toBe(1);
    expect(tallies[0]!.actor).toMatchObject({ name: 'carol', traceId: TRACE_A });
  });

  it('counts each trace in its own window with countBy trace, and untraced deletions per actor', () => {
    const events = [deleteEvent(5, 0, 'orders', traced(TRACE_A)), deleteEvent(5, 1, 'orders', traced(TRACE_B)), deleteEvent(6, 0, 'orders', traced(TRACE_A)), deleteEvent(7, 0)];
    const tallies = tallyDeletions(audited(events), policyOf({ countBy: 'trace' }));
    expect(tallies.map((t) => t.deletion.rows)).toEqual([1, 1, 1, 1]);
    const keys = tallies.map((t) => t.windowKey);
    expect(keys[0]).toBe(keys[2]);
    expect(keys[0]).not.toBe(keys[1]);
    expect(keys[3]).toContain('postgres');
  });
});
