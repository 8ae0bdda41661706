import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, type ApiFixture } from '../support/api-fixture.js';
import { runWalaudit, type WalauditProcess } from '../support/walaudit-process.js';

interface Entry {
  id: string;
  op: string;
  schema: string;
  table: string;
  pk: Record<string, string> | null;
  after: Record<string, string | null> | null;
  retentionDays: number;
  critical: boolean;
  action?: { name: string; by?: string; role?: string; change?: string; entryId?: string };
}

/** Audit rules and retention changed through the API of a real `walaudit start`, without a restart. */
describe('HTTP API: audit rules and retention at run time', () => {
  let fx: ApiFixture;
  let admin: pg.Client;
  let start: WalauditProcess;
  let port: number;
  let manager: string;
  let viewer: string;
  let marker = 0;

  /** `as: null` sends no token; the default is the local manager token. */
  const api = (method: string, path: string, body?: unknown, as: string | null = manager) => fx.call(method, path, { token: as, body });

  const entriesOf = async (table: string, op?: string): Promise<Entry[]> => {
    const answer = await api('GET', `/api/entries?table=${table}&limit=1000${op ? `&op=${op}` : ''}`);
    expect(answer.status).toBe(200);
    return answer.body.entries as Entry[];
  };

  /**
   * A transaction on `marks` after everything written before, and waits for its entry: the
   * pipeline has then written every transaction committed before it (log order is commit order).
   */
  const caughtUp = async () => {
    const id = ++marker;
    await admin.query('INSERT INTO marks VALUES ($1)', [id]);
    const deadline = Date.now() + 30_000;
    while (!(await entriesOf('marks', 'insert')).some((entry) => entry.after?.id === String(id))) {
      if (Date.now() > deadline) throw new Error(`mark ${id} never reached the log: ${start.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  const rowIds = async (table: string, op = 'insert') => (await entriesOf(table, op)).map((entry) => entry.after?.id ?? entry.pk?.id).sort();

  beforeAll(async () => {
    fx = await startApiFixture('api-rules', {
      viewerName: 'auditor',
      schema: 'CREATE TABLE orders (id int PRIMARY KEY, note text); CREATE TABLE notes (id int PRIMARY KEY, body text); CREATE TABLE sessions (id int PRIMARY KEY); CREATE TABLE marks (id int PRIMARY KEY)',
    });
    ({ admin, start, port, manager, viewer } = fx);
    expect(viewer).toMatch(/^wat_/);
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('refuses changes without a token (401) and from a viewer (403, naming the manager role); a viewer may list', async () => {
    const changes: [string, string, unknown][] = [
      ['POST', '/api/rules', { action: 'exclude', table: 'orders' }],
      ['DELETE', '/api/rules/orders/exclude', undefined],
      ['PUT', '/api/retention/orders', { days: 1 }],
      ['DELETE', '/api/retention/orders', undefined],
    ];
    for (const [method, path, body] of changes) {
      expect((await api(method, path, body, null)).status).toBe(401);
      const refused = await api(method, path, body, viewer);
      expect(refused.status).toBe(403);
      expect(refused.body.error!.message).toContain('manager role');
    }
    for (const path of ['/api/rules', '/api/retention']) {
      expect((await api('GET', path, undefined, null)).status).toBe(401);
      expect((await api('GET', path, undefined, viewer)).status).toBe(200);
    }
    // Nothing was changed by the refused calls.
    expect((await api('GET', '/api/rules')).body).toMatchObject({ overrides: [], history: [] });
  });

  it('excluding a table applies to the next transaction without a restart, and the change is in the chain with who and the role', async () => {
    await admin.query("INSERT INTO orders VALUES (1, 'before')");
    await caughtUp();
    expect(await rowIds('orders')).toEqual(['1']);

    const excluded = await api('POST', '/api/rules', { action: 'exclude', table: 'orders' });
    expect(excluded.status).toBe(201);
    const change = (excluded.body as { change: { id: string; table: string; by: string; role: string } }).change;
    expect(change).toMatchObject({ table: 'public.orders', by: 'local', role: 'manager' });
    await admin.query("INSERT INTO orders VALUES (2, 'after')");
    await admin.query("INSERT INTO notes VALUES (2, 'other table')");
    await caughtUp();
    expect(await rowIds('orders')).toEqual(['1']);
    expect(await rowIds('notes')).toEqual(['2']);

    // Kept in the trail although the table it names is no longer audited.
    const actions = await entriesOf('orders', 'action');
    expect(actions).toHaveLength(1);
    expect(actions[0]!.action).toMatchObject({ name: 'rules.exclude', by: 'local', role: 'manager', change: change.id });
    expect((await api('GET', '/api/verify')).body).toMatchObject({ ok: true });

    const listed = await api('GET', '/api/rules', undefined, viewer);
    expect(listed.body.overrides).toEqual([{ table: 'public.orders', mode: 'exclude' }]);
    expect(listed.body.history).toEqual([expect.objectContaining({ id: change.id, action: 'exclude', table: 'public.orders', by: 'local', role: 'manager', pending: false })]);
  });

  it('undo gives the table its config rules back from the next transaction; undoing what is not in effect is a 404', async () => {
    expect((await api('DELETE', '/api/rules/orders/watch')).status).toBe(404);
    const undone = await api('DELETE', '/api/rules/public.orders/exclude');
    expect(undone.status).toBe(200);
    expect(undone.body.overrides).toEqual([]);
    await admin.query("INSERT INTO orders VALUES (3, 'undone')");
    await caughtUp();
    expect(await rowIds('orders')).toEqual(['1', '3']);
    expect((await entriesOf('orders', 'action')).map((entry) => entry.action!.name).sort()).toEqual(['rules.exclude', 'rules.undo-exclude']);
    expect((await api('DELETE', '/api/rules/orders/exclude')).status).toBe(404);
  });

  it('watch, named through an entry, makes the table critical: its next deletion raises a critical-table alert', async () => {
    const [noteEntry] = await entriesOf('notes', 'insert');
    const before = (await api('GET', '/api/alerts')).body.alerts as { kind: string }[];
    expect(before.filter((alert) => alert.kind === 'critical-table')).toEqual([]);
    const watched = await api('POST', '/api/rules', { action: 'watch', entryId: noteEntry!.id });
    expect(watched.status).toBe(201);
    expect(watched.body.change).toMatchObject({ action: 'watch', table: 'public.notes', entryId: noteEntry!.id });
    await admin.query('DELETE FROM notes WHERE id = 2');
    await caughtUp();
    const [deleted] = await entriesOf('notes', 'delete');
    expect(deleted!.critical).toBe(true);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const alerts = (await api('GET', '/api/alerts')).body.alerts as { kind: string; tables: { table: string }[] }[];
      const critical = alerts.find((alert) => alert.kind === 'critical-table');
      if (critical) {
        expect(critical.tables).toEqual([expect.objectContaining({ table: 'public.notes' })]);
        break;
      }
      if (Date.now() > deadline) throw new Error(`no critical-table alert: ${JSON.stringify(alerts)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // An unknown entry names no table.
    expect((await api('POST', '/api/rules', { action: 'watch', entryId: 'FFFFFFFFFFFFFFFF-0' })).status).toBe(404);
  });

  it('a retention override changes the retentionDays of the next entries of that table only', async () => {
    const set = await api('PUT', '/api/retention/notes', { days: 7 });
    expect(set.status).toBe(200);
    await admin.query("INSERT INTO notes VALUES (5, 'short'); INSERT INTO orders VALUES (5, 'default')");
    await caughtUp();
    const note = (await entriesOf('notes', 'insert')).find((entry) => entry.after?.id === '5')!;
    const order = (await entriesOf('orders', 'insert')).find((entry) => entry.after?.id === '5')!;
    expect(note.retentionDays).toBe(7);
    expect(note.critical).toBe(true);
    expect(order.retentionDays).toBe(90);
    // Entries stored before keep theirs.
    expect((await entriesOf('notes', 'delete'))[0]!.retentionDays).toBe(90);

    const retention = (await api('GET', '/api/retention', undefined, viewer)).body as { defaultDays: number; tables: { table: string; days: number; from: string }[] };
    expect(retention.defaultDays).toBe(90);
    expect(retention.tables).toEqual(
      expect.arrayContaining([
        { table: 'public.notes', days: 7, from: 'override' },
        { table: 'public.orders', days: 90, from: 'default' },
      ]),
    );
    expect((await api('DELETE', '/api/retention/orders')).status).toBe(404);
    expect((await api('PUT', '/api/retention/orders', { days: -1 })).status).toBe(400);
    expect((await api('PUT', '/api/retention/order*', { days: 1 })).status).toBe(400);
  });

  it('the CLI lists and changes rules through the running start', async () => {
    const excluded = await runWalaudit(['rules', 'exclude', 'sessions', '--http-port', String(port)]);
    expect(excluded.code, excluded.stderr).toBe(0);
    expect(excluded.stdout).toContain('public.sessions is no longer audited');
    const list = await runWalaudit(['rules', 'list', '--http-port', String(port)]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('public.notes  watched (critical), kept 7 days');
    expect(list.stdout).toContain('public.sessions  excluded (not audited)');
    expect(list.stdout).toMatch(/exclude public\.sessions {2}by local \(manager\)/);
    const retention = await runWalaudit(['retention', 'list', '--http-port', String(port)]);
    expect(retention.stdout).toMatch(/public\.notes\s+7 days\s+override/);
    const asViewer = await runWalaudit(['rules', 'undo', 'exclude', 'sessions', '--http-port', String(port), '--token', viewer]);
    expect(asViewer.code).toBe(2);
    expect(asViewer.stderr).toContain('API_FORBIDDEN');
  });

  it('a rules action written into the WAL by hand is stored like any action and changes nothing', async () => {
    await admin.query(`SELECT pg_logical_emit_message(true, 'walaudit.action', '{"name": "rules.exclude", "table": "public.orders", "change": "00000000deadbeef"}')`);
    await admin.query("INSERT INTO orders VALUES (6, 'still audited')");
    await caughtUp();
    expect(await rowIds('orders')).toContain('6');
    expect((await entriesOf('orders', 'action')).map((entry) => entry.action!.change)).toContain('00000000deadbeef');
    expect((await api('GET', '/api/rules')).body.overrides).not.toContainEqual(expect.objectContaining({ table: 'public.orders' }));
  });

  it('the rules survive a restart of walaudit', async () => {
    start = await fx.restart();
    const listed = await api('GET', '/api/rules');
    expect(listed.body.overrides).toEqual(
      expect.arrayContaining([
        { table: 'public.notes', mode: 'watch', retentionDays: 7 },
        { table: 'public.sessions', mode: 'exclude' },
      ]),
    );
    const history = listed.body.history as { action: string; table: string; by: string; role: string; entryId?: string; days?: number }[];
    expect(history.map((change) => `${change.action} ${change.table}`)).toEqual(['exclude public.orders', 'undo-exclude public.orders', 'watch public.notes', 'retention-set public.notes', 'exclude public.sessions']);
    expect(history[2]).toMatchObject({ by: 'local', role: 'manager', entryId: expect.stringMatching(/-\d+$/) });
    expect(history[3]).toMatchObject({ days: 7 });
    expect(history[0]!.entryId).toBeUndefined();
    await admin.query("INSERT INTO sessions VALUES (1); INSERT INTO notes VALUES (6, 'after restart')");
    await caughtUp();
    expect(await rowIds('sessions')).toEqual([]);
    const note = (await entriesOf('notes', 'insert')).find((entry) => entry.after?.id === '6')!;
    expect(note).toMatchObject({ retentionDays: 7, critical: true });
    // The actions of the changes made before the restart are still in the trail, once each.
    expect((await entriesOf('sessions', 'action')).map((entry) => entry.action!.name)).toEqual(['rules.exclude']);
  });
});
