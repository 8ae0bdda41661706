import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouseStores } from '@walaudit/clickhouse';
import { callApi } from '../support/api-client.js';
import { startApiFixture, type ApiFixture } from '../support/api-fixture.js';
import { runWalaudit, type WalauditProcess } from '../support/walaudit-process.js';

/** `walaudit start` as a user runs it: who may call which route, with what, and what is recorded. */
describe('HTTP API: tokens and roles', () => {
  let fx: ApiFixture;
  let admin: pg.Client;
  let start: WalauditProcess;
  let port: number;
  let dataDir: string;
  let manager: string;
  let viewer: string;
  let viewerId: string;
  let deletedId: string;

  beforeAll(async () => {
    // The viewer token is made by a test: that is what it checks.
    fx = await startApiFixture('api-auth', { viewerName: null, schema: 'CREATE TABLE accounts (id int PRIMARY KEY, owner text)' });
    ({ admin, start, port, dataDir, manager } = fx);
    await admin.query("INSERT INTO accounts VALUES (1, 'ann'), (2, 'bob'); DELETE FROM accounts WHERE id = 2");
    await start.waitFor((status) => status.entriesStored >= 3);
    const entries = (await callApi(port, 'GET', '/api/entries?op=delete&table=accounts', { token: manager })).body.entries as { id: string }[];
    deletedId = entries[0]!.id;
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('writes the local manager token with mode 0600 and takes no anonymous request, loopback included', async () => {
    const { statSync } = await import('node:fs');
    expect(statSync(`${dataDir}/api-token`).mode & 0o777).toBe(0o600);
    expect((await callApi(port, 'GET', '/health')).status).toBe(200);
    expect((await callApi(port, 'GET', '/metrics')).status).toBe(200);
    const anonymous = await callApi(port, 'GET', '/api/entries');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toMatchObject({ code: 'API_UNAUTHORIZED' });
    expect(anonymous.body.error!.message).toContain('viewer token');
  });

  it('a manager creates a viewer token, shown once; the list never shows it', async () => {
    const created = await callApi(port, 'POST', '/api/tokens', { token: manager, body: JSON.stringify({ name: 'grafana', role: 'viewer' }) });
    expect(created.status).toBe(201);
    viewer = created.body.token as string;
    viewerId = created.body.id as string;
    expect(viewer).toMatch(/^wat_/);
    const listed = await callApi(port, 'GET', '/api/tokens', { token: manager });
    expect(listed.status).toBe(200);
    expect(listed.text).toContain('grafana');
    expect(listed.text).not.toContain(viewer);
    expect(listed.text).not.toContain(viewer.slice(4, 20));
  });

  const routes: { method: string; path: string; role: 'viewer' | 'manager'; body?: () => string }[] = [
    { method: 'GET', path: '/api/status', role: 'viewer' },
    { method: 'GET', path: '/api/entries?limit=5', role: 'viewer' },
    { method: 'GET', path: '/api/verify', role: 'viewer' },
    { method: 'GET', path: '/api/alerts', role: 'viewer' },
    { method: 'GET', path: '/api/alerts/counts', role: 'viewer' },
    { method: 'GET', path: '/api/cascade?caused-by=PLACEHOLDER', role: 'viewer' },
    { method: 'GET', path: '/api/exports/entries.csv?table=accounts', role: 'viewer' },
    { method: 'POST', path: '/api/restores', role: 'manager', body: () => JSON.stringify({ request: { kind: 'entry', entryId: deletedId }, policy: 'fail', dryRun: true }) },
    { method: 'GET', path: '/api/tokens', role: 'manager' },
    { method: 'POST', path: '/api/tokens', role: 'manager', body: () => JSON.stringify({ name: 'ci', role: 'viewer' }) },
  ];

  it.each(routes)('$method $path: 401 without a token, $role needed, and a manager may', async ({ method, path, role, body }) => {
    const url = path.replace('PLACEHOLDER', deletedId);
    expect((await callApi(port, method, url, { body: body?.() })).status).toBe(401);
    const asViewer = await callApi(port, method, url, { token: viewer, body: body?.() });
    if (role === 'manager') {
      expect(asViewer.status).toBe(403);
      expect(asViewer.body.error!.message).toContain('needs the manager role');
    } else expect(asViewer.status).toBe(200);
    expect((await callApi(port, method, url, { token: manager, body: body?.() })).status).toBeLessThan(300);
  });

  it('a viewer cannot restore or create tokens; a manager restores, recorded in the trail under the principal and role', async () => {
    const restore = JSON.stringify({ request: { kind: 'entry', entryId: deletedId }, policy: 'fail' });
    expect((await callApi(port, 'POST', '/api/restores', { token: viewer, body: restore })).status).toBe(403);
    expect((await callApi(port, 'POST', '/api/tokens', { token: viewer, body: JSON.stringify({ name: 'x', role: 'manager' }) })).status).toBe(403);
    const submitted = await callApi(port, 'POST', '/api/restores', { token: manager, body: restore });
    expect(submitted.status).toBe(202);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const log = await runWalaudit(['log', '--json', '--limit', '50', '--http-port', String(port), '--data-dir', dataDir]);
      const actions = log.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { action?: { name: string; by: string; role: string; tokenName?: string } }).flatMap((entry) => (entry.action ? [entry.action] : []));
      const names = actions.map((action) => action.name);
      if (names.includes('restore.submit') && actions.some((action) => action.tokenName === 'grafana')) {
        expect(actions.find((action) => action.name === 'restore.submit')).toMatchObject({ by: 'local', role: 'manager' });
        expect(actions.find((action) => action.tokenName === 'grafana')).toMatchObject({ by: 'local', role: 'manager', tokenName: 'grafana' });
        expect(log.stdout).not.toContain(viewer);
        break;
      }
      if (Date.now() > deadline) throw new Error(`no audited actions in the log: ${log.stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect((await admin.query('SELECT count(*)::int AS n FROM accounts WHERE id = 2')).rows[0].n).toBe(1);
  });

  it('refuses each browser attack: text/plain POST (no row written), forged Host, foreign Origin, cross-site fetch', async () => {
    const before = (await admin.query('SELECT count(*)::int AS n FROM accounts')).rows[0].n as number;
    const stored = (await start.waitFor(() => true)).entriesStored;
    await admin.query('DELETE FROM accounts WHERE id = 1');
    await start.waitFor((status) => status.entriesStored > stored);
    const entries = (await callApi(port, 'GET', '/api/entries?op=delete&table=accounts&limit=1', { token: manager })).body.entries as { id: string }[];
    const body = JSON.stringify({ request: { kind: 'entry', entryId: entries[0]!.id }, policy: 'fail' });
    const plain = await callApi(port, 'POST', '/api/restores', { token: manager, body, headers: { 'content-type': 'text/plain' } });
    expect(plain.status).toBe(415);
    expect(plain.body.error!.code).toBe('API_UNSUPPORTED_MEDIA_TYPE');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await admin.query('SELECT count(*)::int AS n FROM accounts')).rows[0].n).toBe(before - 1);

    const host = await callApi(port, 'GET', '/api/entries', { token: manager, headers: { host: `evil.example:${port}` } });
    expect(host.status).toBe(421);
    expect(host.body.error!.message).toContain('http.allowedHosts');
    const origin = await callApi(port, 'POST', '/api/alerts/ack', { token: manager, body: JSON.stringify({ ids: ['000000000000'] }), headers: { origin: 'http://evil.example' } });
    expect(origin.status).toBe(403);
    expect(origin.body.error!.code).toBe('API_CROSS_ORIGIN');
    const site = await callApi(port, 'GET', '/api/entries', { token: manager, headers: { 'sec-fetch-site': 'cross-site' } });
    expect(site.status).toBe(403);
    expect((await callApi(port, 'GET', '/api/entries?limit=1', { token: manager, headers: { 'sec-fetch-site': 'same-origin', origin: `http://127.0.0.1:${port}` } })).status).toBe(200);
  });

  it('answers errors as {error: {code, message}}: validation and unknown routes too', async () => {
    const invalid = await callApi(port, 'GET', '/api/entries?limit=0', { token: viewer });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({ code: 'API_BAD_REQUEST' });
    expect(invalid.body.error!.message).toContain('limit');
    const missing = await callApi(port, 'GET', '/api/nothing', { token: viewer });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'API_NOT_FOUND' });
  });

  it('lists every route in the OpenAPI document with the role it needs', async () => {
    const doc = (await callApi(port, 'GET', '/api/openapi.json', { token: viewer })).body as { paths: Record<string, Record<string, { 'x-walaudit-role': string }>> };
    const roles = Object.fromEntries(Object.entries(doc.paths).flatMap(([path, operations]) => Object.entries(operations).map(([method, operation]) => [`${method.toUpperCase()} ${path}`, operation['x-walaudit-role']])));
    expect(roles).toEqual({
      'GET /health': 'public',
      'GET /metrics': 'public',
      'GET /api/status': 'viewer',
      'GET /api/me': 'viewer',
      'GET /api/entries': 'viewer',
      'GET /api/entries/{id}': 'viewer',
      'GET /api/verify': 'viewer',
      'GET /api/history': 'viewer',
      'GET /api/transactions/{xid}': 'viewer',
      'GET /api/stats': 'viewer',
      'GET /api/stats/top-deleters': 'viewer',
      'GET /api/exports/entries.csv': 'viewer',
      'GET /api/exports/entries.jsonl': 'viewer',
      'GET /api/exports/report.pdf': 'viewer',
      'GET /api/alerts': 'viewer',
      'GET /api/alerts/counts': 'viewer',
      'POST /api/alerts/ack': 'viewer',
      'GET /api/cascade': 'viewer',
      'POST /api/restores': 'manager',
      'GET /api/restores/{id}': 'viewer',
      'POST /api/tokens': 'manager',
      'GET /api/tokens': 'manager',
      'DELETE /api/tokens/{id}': 'manager',
      'GET /api/rules': 'viewer',
      'POST /api/rules': 'manager',
      'DELETE /api/rules/{table}/{action}': 'manager',
      'GET /api/retention': 'viewer',
      'PUT /api/retention/{table}': 'manager',
      'DELETE /api/retention/{table}': 'manager',
      'GET /api/events': 'viewer',
    });
    const docs = await callApi(port, 'GET', '/api/docs/', { token: viewer });
    expect(docs.status).toBe(200);
    expect(docs.text).not.toMatch(/unpkg|jsdelivr|cdnjs/);
  });

  it('counts failed authentications in /metrics; a revoked token stops working within a second', async () => {
    expect((await callApi(port, 'GET', '/api/status', { token: 'wat_guess' })).status).toBe(401);
    expect((await callApi(port, 'GET', '/metrics')).text).toMatch(/^walaudit_api_auth_failures_total\{reason="invalid"\} [1-9]/m);
    expect((await callApi(port, 'DELETE', `/api/tokens/${viewerId}`, { token: viewer })).status).toBe(403);
    const revoked = await callApi(port, 'DELETE', `/api/tokens/${viewerId}`, { token: manager });
    expect(revoked.status).toBe(200);
    const revokedAt = Date.now();
    for (;;) {
      if ((await callApi(port, 'GET', '/api/status', { token: viewer })).status === 401) break;
      expect(Date.now() - revokedAt).toBeLessThan(1000);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  it('keeps tokens out of the output and the store in clear', async () => {
    await start.stop('SIGTERM');
    expect(start.stdout() + start.stderr()).not.toContain(viewer);
    expect(start.stdout() + start.stderr()).not.toContain(manager);
    const stores = await openClickHouseStores({ dataDir, database: 'walaudit' });
    try {
      const rows = await stores.audit.select<Record<string, unknown>>(`SELECT * FROM ${stores.audit.table('api_tokens')}`);
      expect(rows.length).toBeGreaterThan(0);
      const text = JSON.stringify(rows);
      expect(text).not.toContain(viewer);
      expect(text).not.toContain(viewer.slice(4));
      const trail = JSON.stringify(await stores.audit.select<Record<string, unknown>>(`SELECT * FROM ${stores.audit.table('audit_log')}`));
      expect(trail).not.toContain(viewer.slice(4));
    } finally {
      await stores.close();
    }
  });
});
