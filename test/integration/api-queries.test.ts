import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, EntryDetail, EntryPage, RecordHistory, StatsPoint, TransactionSummary } from '@walaudit/core';
import { findFreePort, runSetup, withAuditContext } from '@walaudit/pg';
import { callApi } from '../support/api-client.js';
import { connect, createTestDatabase, uniqueName, withUrl, type TestDatabase } from '../support/postgres.js';
import { tempDir } from '../support/temp-dir.js';
import { localTokenOf, runWalaudit, spawnWalaudit, type WalauditProcess } from '../support/walaudit-process.js';

const ACCOUNTS = 12;

/** The read routes of the audit trail against a real `walaudit start` on a real Postgres. */
describe('HTTP API: entries, entry, history, transactions, stats', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  let start: WalauditProcess;
  let port: number;
  let dataDir: string;
  let slot: string;
  let manager: string;
  let viewer: string;
  /** Every entry, newest first, as one large page returns them. */
  let all: AuditEntry[];

  const get = async <T>(path: string, token = viewer): Promise<T> => {
    const answer = await callApi(port, 'GET', path, { token });
    if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${answer.text}`);
    return answer.body as T;
  };
  const ids = (entries: AuditEntry[]) => entries.map((entry) => entry.id);
  const search = async (query: string) => ids((await get<EntryPage>(`/api/entries?limit=1000&${query}`)).entries);

  /** Polls the search until it matches at least `n` entries: the pipeline stores them shortly after the commit. */
  async function waitForEntries(query: string, n: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const page = await get<EntryPage>(`/api/entries?limit=1&count=1&${query}`, manager);
      if ((page.total ?? 0) >= n) return;
      if (Date.now() > deadline) throw new Error(`only ${page.total} entries match ${query}, expected ${n}\n${start.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase('api_queries');
    admin = await connect(db.url);
    await admin.query(`
      CREATE TABLE accounts (id int PRIMARY KEY, owner text, note text);
      CREATE TABLE customers (id int PRIMARY KEY, name text);
      CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers ON DELETE CASCADE);`);
    slot = uniqueName('apiq');
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
    port = await findFreePort();
    dataDir = tempDir('api-queries');
    start = spawnWalaudit(['start', '--source', db.url, '--data-dir', dataDir, '--http-port', String(port), '--slot', slot, '--publication', slot]);
    await start.waitFor((status) => status.state === 'running');
    manager = localTokenOf(dataDir)!;
    viewer = (await callApi(port, 'POST', '/api/tokens', { token: manager, body: JSON.stringify({ name: 'analyst', role: 'viewer' }) })).body.token as string;

    // One transaction of inserts, one update sent by an application with its context, a row's life, a cascade.
    await admin.query(`INSERT INTO accounts SELECT i, 'owner' || i, 'n' || i FROM generate_series(1, ${ACCOUNTS}) i`);
    const app = await connect(withUrl(db.url, { applicationName: 'billing-job' }));
    try {
      await withAuditContext(app, { user: 'ann@example.com', ip: '10.1.2.3', reason: 'ticket 7' }, (client) => client.query("UPDATE accounts SET note = 'needle Zebra' WHERE id = 3"));
    } finally {
      await app.end();
    }
    await admin.query("UPDATE accounts SET owner = 'eve' WHERE id = 5");
    await admin.query("UPDATE accounts SET note = 'second' WHERE id = 5");
    await admin.query('DELETE FROM accounts WHERE id = 5');
    await admin.query("INSERT INTO customers VALUES (1, 'acme'); INSERT INTO orders VALUES (10, 1), (11, 1)");
    await admin.query('DELETE FROM customers WHERE id = 1');
    await waitForEntries('table=customers&op=delete', 1);
    await waitForEntries('table=orders&op=delete', 2);
    all = (await get<EntryPage>('/api/entries?limit=1000')).entries;
  });

  afterAll(async () => {
    await start?.kill('SIGTERM');
    await admin?.end();
    await db?.drop();
  });

  it('filters by table, op, actor, ip, application, xid, time, key and text, each as the entries say', async () => {
    // accounts: the inserts, ann's update, row 5's two updates and its delete; customers 2; orders 4.
    expect(all.filter((entry) => ['insert', 'update', 'delete'].includes(entry.op))).toHaveLength(ACCOUNTS + 4 + 2 + 4);
    const expected = (keep: (entry: AuditEntry) => boolean) => ids(all.filter(keep));
    expect(await search('table=accounts')).toEqual(expected((entry) => entry.table === 'accounts'));
    expect(await search('table=public.customers,orders&op=delete')).toEqual(expected((entry) => ['customers', 'orders'].includes(entry.table) && entry.op === 'delete'));
    expect(await search('table=customers&table=orders&op=delete')).toHaveLength(3);
    expect(await search('op=update&op=delete&table=accounts')).toHaveLength(4);

    const annUpdate = expected((entry) => entry.op === 'update' && entry.actor.app?.user === 'ann@example.com');
    expect(annUpdate).toHaveLength(1);
    expect(await search('actor=ann@example.com')).toEqual(annUpdate);
    // The connection's address when Postgres knows it (TCP), else the one the application sent.
    const clientIp = (entry: AuditEntry) => entry.actor.db?.ip ?? entry.actor.app?.ip;
    const annIp = clientIp(all.find((entry) => entry.id === annUpdate[0])!)!;
    expect(await search(`ip=${annIp}`)).toEqual(expected((entry) => clientIp(entry) === annIp));
    expect(await search(`ip=${annIp}`)).toContain(annUpdate[0]);
    expect(await search('ip=203.0.113.9')).toEqual([]);
    expect(await search('application=billing-job')).toEqual(annUpdate);
    expect(await search('text=ZEBRA')).toEqual(annUpdate);
    expect(await search('actor=nobody')).toEqual([]);

    const cascade = all.find((entry) => entry.table === 'customers' && entry.op === 'delete')!;
    expect(await search(`xid=${cascade.tx.xid}`)).toEqual(expected((entry) => entry.tx.xid === cascade.tx.xid));
    expect(await search(`xid=${cascade.tx.xid}`)).toHaveLength(3);

    const pivot = all.find((entry) => entry.id === annUpdate[0])!.tx.commitTime;
    expect(await search(`from=${pivot}`)).toEqual(expected((entry) => entry.tx.commitTime >= pivot));
    expect(await search(`to=${pivot}`)).toEqual(expected((entry) => entry.tx.commitTime < pivot));
    expect((await search(`from=${pivot}`)).length + (await search(`to=${pivot}`)).length).toBe(all.length);

    expect(await search(`table=public.accounts&pk=${encodeURIComponent('{"id":"5"}')}`)).toEqual(expected((entry) => entry.table === 'accounts' && entry.pk?.id === '5'));
    expect(await search(`table=public.accounts&pk=${encodeURIComponent('{"id":"5"}')}`)).toHaveLength(4);

    const bad = await callApi(port, 'GET', '/api/entries?from=yesterday', { token: viewer });
    expect(bad.status).toBe(400);
    expect(bad.body.error!.message).toContain('from');
    const keyWithoutTable = await callApi(port, 'GET', `/api/entries?pk=${encodeURIComponent('{"id":"5"}')}`, { token: viewer });
    expect(keyWithoutTable.status).toBe(400);
    expect((await callApi(port, 'GET', '/api/entries?limit=10001', { token: viewer })).status).toBe(400);
  });

  it('pages with a small limit through every entry once, newest first, and counts them when asked', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await get<EntryPage>(`/api/entries?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}${pages === 0 ? '&count=1' : ''}`);
      if (pages === 0) expect(page.total).toBe(all.length);
      else expect(page.total).toBeUndefined();
      expect(page.entries.length).toBeLessThanOrEqual(3);
      seen.push(...ids(page.entries));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(seen).toEqual(ids(all));
    expect(new Set(seen).size).toBe(all.length);
    expect(pages).toBe(Math.ceil(all.length / 3));
    expect((await get<EntryPage>('/api/entries?table=accounts&count=1&limit=1')).total).toBe(ACCOUNTS + 4);
    const forged = await callApi(port, 'GET', '/api/entries?cursor=p1.nonsense', { token: viewer });
    expect(forged.status).toBe(400);
    expect(forged.body.error!.message).toContain('cursor');
  });

  it("explains an entry: an update's changed columns, a cascaded child's parent, its chain; 404 for an unknown id", async () => {
    const update = all.find((entry) => entry.op === 'update' && entry.actor.app?.user === 'ann@example.com')!;
    const detail = await get<EntryDetail>(`/api/entries/${update.id}`);
    expect(detail.entry.id).toBe(update.id);
    expect(detail.entry.actor.app).toMatchObject({ user: 'ann@example.com', reason: 'ticket 7' });
    expect(detail.changes).toEqual([{ column: 'note', before: 'n3', after: 'needle Zebra' }]);
    expect(detail.chain).toMatchObject({ hashOk: true, link: 'linked' });

    const parent = all.find((entry) => entry.table === 'customers' && entry.op === 'delete')!;
    const child = all.find((entry) => entry.table === 'orders' && entry.op === 'delete')!;
    const childDetail = await get<EntryDetail>(`/api/entries/${child.id}`);
    expect(childDetail.cascadeParent).toMatchObject({ entryId: child.id, kind: 'cascade', parentEntryId: parent.id, parentTable: 'customers', constraint: 'orders_customer_id_fkey' });
    const parentDetail = await get<EntryDetail>(`/api/entries/${parent.id}`);
    expect(parentDetail.cascadeParent).toBeNull();
    expect(parentDetail.cascadeChildCount).toBe(2);
    expect(parentDetail.cascadeChildren.map((link) => link.key)).toEqual(expect.arrayContaining([{ id: '10' }, { id: '11' }]));

    const missing = await callApi(port, 'GET', '/api/entries/00000000DEADBEEF-0', { token: viewer });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'ENTRY_NOT_FOUND' });
  });

  it("sums up a transaction: its entries per table and op; 404 for a transaction the log does not hold", async () => {
    const parent = all.find((entry) => entry.table === 'customers' && entry.op === 'delete')!;
    const summary = await get<TransactionSummary>(`/api/transactions/${parent.tx.xid}`);
    expect(summary).toMatchObject({ xid: parent.tx.xid, lsn: parent.tx.lsn, entryCount: 3, truncated: false, tables: ['public.customers', 'public.orders'] });
    expect(summary.counts).toEqual(expect.arrayContaining([{ table: 'public.customers', op: 'delete', entries: 1 }, { table: 'public.orders', op: 'delete', entries: 2 }]));
    expect(ids(summary.entries)).toEqual((await search(`xid=${parent.tx.xid}`)).reverse());
    const first = await get<TransactionSummary>(`/api/transactions/${parent.tx.xid}?limit=1`);
    expect(first.entries).toHaveLength(1);
    expect(first.truncated).toBe(true);
    const none = await callApi(port, 'GET', '/api/transactions/999999999', { token: viewer });
    expect(none.status).toBe(404);
    expect(none.body.error).toMatchObject({ code: 'TRANSACTION_NOT_FOUND' });
  });

  it('counts entries per bucket and group over the last 30 days by default; refuses a minute bucket over a year', async () => {
    const byTable = await get<{ from: string; to: string; bucket: string; points: StatsPoint[] }>('/api/stats');
    expect(byTable.bucket).toBe('day');
    expect(Date.parse(byTable.to) - Date.parse(byTable.from)).toBe(30 * 86_400_000);
    const total = (points: StatsPoint[], group: string) => points.filter((point) => point.group === group).reduce((sum, point) => sum + point.entries, 0);
    expect(total(byTable.points, 'public.accounts')).toBe(ACCOUNTS + 4);
    expect(total(byTable.points, 'public.orders')).toBe(4);
    for (const point of byTable.points) expect(point.bucket).toMatch(/^\d{4}-\d\d-\d\dT00:00:00Z$/);

    const byOp = await get<{ points: StatsPoint[] }>('/api/stats?bucket=hour&groupBy=op&table=accounts');
    expect(total(byOp.points, 'update')).toBe(3);
    expect(total(byOp.points, 'delete')).toBe(1);
    expect(total(byOp.points, 'insert')).toBe(ACCOUNTS);
    const byActor = await get<{ points: StatsPoint[] }>('/api/stats?groupBy=actor&actor=ann@example.com');
    expect(byActor.points.map((point) => [point.group, point.entries])).toEqual([['ann@example.com', 1]]);

    const tooMany = await callApi(port, 'GET', '/api/stats?bucket=minute&from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', { token: viewer });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error!.message).toMatch(/525600 minute buckets .*at most 2000/);
    expect((await callApi(port, 'GET', '/api/stats?bucket=year', { token: viewer })).status).toBe(400);

    const deleters = await get<{ actors: { actor: string; deletes: number; truncates: number }[] }>('/api/stats/top-deleters?limit=5');
    expect(deleters.actors.reduce((sum, actor) => sum + actor.deletes, 0)).toBe(4);
  });

  it('lists five versions of a row inserted, updated twice, deleted and restored, oldest first', async () => {
    const deleted = all.find((entry) => entry.table === 'accounts' && entry.op === 'delete')!;
    const submitted = await callApi(port, 'POST', '/api/restores', { token: manager, body: JSON.stringify({ request: { kind: 'entry', entryId: deleted.id }, policy: 'fail', requestedBy: 'dba@example.com' }) });
    expect(submitted.status).toBe(202);
    const path = `/api/history?table=public.accounts&pk=${encodeURIComponent('{"id":"5"}')}`;
    const deadline = Date.now() + 30_000;
    let history: RecordHistory;
    for (;;) {
      history = await get<RecordHistory>(path);
      if (history.versions.length >= 5) break;
      if (Date.now() > deadline) throw new Error(`history has ${history.versions.length} versions\n${start.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(history.versions.map((version) => version.kind)).toEqual(['created', 'updated', 'updated', 'deleted', 'restored']);
    expect(history.nextCursor).toBeUndefined();
    expect(history.versions.map((version) => version.row?.owner ?? null)).toEqual(['owner5', 'eve', 'eve', null, 'eve']);
    expect(history.versions[1]!.changes).toEqual([{ column: 'owner', before: 'owner5', after: 'eve' }]);
    expect(history.versions[4]!.restore).toMatchObject({ requestedBy: 'dba@example.com' });
    expect(history.versions[4]!.row).toEqual({ id: '5', owner: 'eve', note: 'second' });

    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await get<RecordHistory>(`${path}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      paged.push(...page.versions.map((version) => version.entry.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(history.versions.map((version) => version.entry.id));
    expect((await get<RecordHistory>(`/api/history?table=accounts&pk=${encodeURIComponent('{"id":"999"}')}`)).versions).toEqual([]);
    expect((await callApi(port, 'GET', '/api/history?table=accounts&pk=5', { token: viewer })).status).toBe(400);
  });

  it('takes a viewer token on every read route and no request without one', async () => {
    const some = all[0]!;
    const paths = [
      '/api/entries?limit=5',
      `/api/entries/${some.id}`,
      `/api/history?table=accounts&pk=${encodeURIComponent('{"id":"1"}')}`,
      `/api/transactions/${some.tx.xid}`,
      '/api/stats',
      '/api/stats/top-deleters',
    ];
    for (const path of paths) {
      expect((await callApi(port, 'GET', path, { token: viewer })).status, path).toBe(200);
      const anonymous = await callApi(port, 'GET', path);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.body.error).toMatchObject({ code: 'API_UNAUTHORIZED' });
    }
  });

  it('walaudit log pages past the page size through the running start, and through the store once it stopped', async () => {
    const common = ['--http-port', String(port), '--json'];
    const lines = (stdout: string) => stdout.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as AuditEntry).id);
    const everything = await get<EntryPage>('/api/entries?limit=1000');
    const seven = await runWalaudit(['log', '--limit', '7', '--page-size', '3', ...common]);
    expect(seven.code, seven.stderr).toBe(0);
    expect(lines(seven.stdout)).toEqual(ids(everything.entries).slice(0, 7));
    const past = await runWalaudit(['log', '--limit', '20000', '--page-size', '4', ...common]);
    expect(past.code, past.stderr).toBe(0);
    expect(lines(past.stdout)).toEqual(ids(everything.entries));
    const filtered = await runWalaudit(['log', '--table', 'customers,orders', '--op', 'delete', '--page-size', '1', ...common]);
    expect(lines(filtered.stdout)).toEqual(ids(everything.entries.filter((entry) => ['customers', 'orders'].includes(entry.table) && entry.op === 'delete')));
    const byKey = await runWalaudit(['log', '--table', 'accounts', '--pk', '{"id":"5"}', '--op', 'update', ...common]);
    expect(lines(byKey.stdout)).toEqual(ids(everything.entries.filter((entry) => entry.table === 'accounts' && entry.pk?.id === '5' && entry.op === 'update')));
    expect(lines(byKey.stdout)).toHaveLength(2);
    const text = await runWalaudit(['log', '--text', 'zebra', '--http-port', String(port)]);
    expect(text.stdout).toContain('by ann@example.com@10.1.2.3');
    expect(text.stdout.trim().split('\n')).toHaveLength(1);

    const history = await runWalaudit(['history', '--table', 'public.accounts', '--pk', '{"id":"5"}', '--page-size', '2', '--http-port', String(port)]);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout.trim().split('\n').map((line) => line.split(/\s+/)[2])).toEqual(['CREATED', 'UPDATED', 'UPDATED', 'DELETED', 'RESTORED']);

    const stored = (await get<EntryPage>('/api/entries?limit=1000')).entries;
    await start.stop('SIGTERM');
    const offline = ['--data-dir', dataDir, '--http-port', String(await findFreePort()), '--json'];
    const fromStore = await runWalaudit(['log', '--limit', '20000', '--page-size', '5', ...offline]);
    expect(fromStore.code, fromStore.stderr).toBe(0);
    expect(lines(fromStore.stdout)).toEqual(ids(stored));
    const usage = await runWalaudit(['log', '--pk', '{"id":"5"}', ...offline]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--pk needs exactly one --table');
    const versions = await runWalaudit(['history', '--table', 'accounts', '--pk', '{"id":"5"}', ...offline]);
    expect(versions.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { kind: string }).kind)).toEqual(['created', 'updated', 'updated', 'deleted', 'restored']);
  });
});
