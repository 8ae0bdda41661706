import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '@walaudit/core';
import { findFreePort, runSetup, withAuditContext } from '@walaudit/pg';
import { callApi } from '../support/api-client.js';
import { openEventStream, type EventStream } from '../support/event-stream.js';
import { createTestDatabase, uniqueName, type TestDatabase } from '../support/postgres.js';
import { localTokenOf, spawnWalaudit, type WalauditProcess } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';

/** `GET /api/events` and `GET /api/alerts/counts` of a real `walaudit start`, fed by real DELETEs. */
describe('HTTP API: live events and alert counts', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  let start: WalauditProcess;
  let port: number;
  let manager: string;
  let viewer: string;
  let viewerId: string;
  let stream: EventStream;
  const streams: EventStream[] = [];

  const open = async (token: string | undefined) => {
    const opened = await openEventStream(port, token);
    streams.push(opened);
    return opened;
  };
  /** Deletes `rows` invoices as the application user `user` (alerts are counted per actor). */
  const deleteAs = async (user: string, fromId: number, rows: number) => {
    await withAuditContext(admin, { user, reason: 'cleanup' }, (tx) => tx.query('DELETE FROM invoices WHERE id >= $1 AND id < $2', [fromId, fromId + rows]));
  };
  const counters = (from = 0) => stream.events.slice(from).filter((event) => event.event === 'counters');

  beforeAll(async () => {
    db = await createTestDatabase('api_live');
    admin = new pg.Client({ connectionString: db.url, application_name: 'psql' });
    await admin.connect();
    await admin.query('CREATE TABLE invoices (id int PRIMARY KEY, total numeric); INSERT INTO invoices SELECT g, g FROM generate_series(1, 1000) g');
    const slot = uniqueName('live');
    await runSetup(db.url, { slot, publication: slot, tables: [], dryRun: false, log: () => {} });
    port = await findFreePort();
    const dataDir = tempDir('api-live');
    start = spawnWalaudit(['start', '--source', db.url, '--data-dir', dataDir, '--http-port', String(port), '--slot', slot, '--publication', slot], {
      WALAUDIT_ALERTS_THRESHOLD: '100',
      WALAUDIT_HTTP_LIVE_STREAMS_MAX: '3',
    });
    await start.waitFor((status) => status.state === 'running');
    manager = localTokenOf(dataDir)!;
    const created = await callApi(port, 'POST', '/api/tokens', { token: manager, body: JSON.stringify({ name: 'console', role: 'viewer' }) });
    viewer = created.body.token as string;
    viewerId = created.body.id as string;
  });

  afterAll(async () => {
    for (const opened of streams) opened.close();
    await start?.kill('SIGTERM');
    await admin?.end();
    await db?.drop();
  });

  it('refuses a stream without a bearer token (401), and takes no token from the URL', async () => {
    const anonymous = await callApi(port, 'GET', '/api/events');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toMatchObject({ code: 'API_UNAUTHORIZED' });
    expect((await callApi(port, 'GET', `/api/events?token=${viewer}`)).status).toBe(401);
    expect((await callApi(port, 'GET', '/api/events', { token: 'wat_not-a-token' })).status).toBe(401);
  });

  it('opens a viewer stream with the counters at once', async () => {
    stream = await open(viewer);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['cache-control']).toContain('no-cache');
    const first = await stream.waitFor((event) => event.event === 'counters', { timeoutMs: 5_000 });
    expect(first.data).toMatchObject({ openAlerts: { total: 0, byKind: { 'bulk-delete': 0, 'critical-table': 0, 'slot-lost': 0, integrity: 0 } }, pipeline: { state: 'running', slotLost: false } });
  });

  it('sends the alert of a bulk DELETE as it is raised, then counters with it, without polling', async () => {
    const from = stream.events.length;
    const before = (counters().at(-1)!.data as { entriesStored: number }).entriesStored;
    const deletedAt = Date.now();
    await deleteAs('ann', 1, 150);
    const alert = await stream.waitFor((event) => event.event === 'alert', { from });
    expect(alert.data).toMatchObject({ kind: 'bulk-delete', status: 'open', actor: { name: 'ann' } });
    expect(alert.data.rows).toBeGreaterThanOrEqual(100);
    const counted = await stream.waitFor((event) => event.event === 'counters' && event.data.openAlerts.byKind['bulk-delete'] === 1, { from });
    expect(counted.data.openAlerts.total).toBe(1);
    expect(counted.data.entriesStored).toBeGreaterThanOrEqual(before + 100);
    // Measured: DELETE committed to the alert on the stream, and to the counters that include it.
    process.stdout.write(`live events: alert after ${alert.at - deletedAt} ms, counters after ${counted.at - deletedAt} ms\n`);
    expect(counted.at - alert.at).toBeLessThan(2_500);
  });

  it('counts open alerts by kind as the alerts list has them', async () => {
    const from = stream.events.length;
    await deleteAs('bob', 200, 120);
    await stream.waitFor((event) => event.event === 'counters' && event.data.openAlerts.total === 2, { from });
    const counts = await callApi(port, 'GET', '/api/alerts/counts', { token: viewer });
    expect(counts.status).toBe(200);
    const listed = (await callApi(port, 'GET', '/api/alerts?open=1&limit=1000', { token: viewer })).body.alerts as Alert[];
    const byKind = { 'bulk-delete': 0, 'critical-table': 0, 'slot-lost': 0, integrity: 0 };
    for (const alert of listed) byKind[alert.kind]++;
    expect(counts.body).toEqual({ total: listed.length, byKind });
    expect(counts.body).toEqual({ total: 2, byKind: { 'bulk-delete': 2, 'critical-table': 0, 'slot-lost': 0, integrity: 0 } });
    expect((await callApi(port, 'GET', '/api/alerts/counts')).status).toBe(401);
  });

  it('sends the acknowledgement made through the API, and the counters drop', async () => {
    const from = stream.events.length;
    const [annAlert] = ((await callApi(port, 'GET', '/api/alerts?open=1', { token: viewer })).body.alerts as Alert[]).filter((alert) => alert.actor.name === 'ann');
    const ack = await callApi(port, 'POST', '/api/alerts/ack', { token: viewer, body: JSON.stringify({ ids: [annAlert!.id], note: 'planned' }) });
    expect(ack.status).toBe(200);
    const acked = await stream.waitFor((event) => event.event === 'alert-acknowledged', { from });
    expect(acked.data).toMatchObject({ id: annAlert!.id, status: 'acknowledged', acknowledgement: { by: 'console', note: 'planned' } });
    const dropped = await stream.waitFor((event) => event.event === 'counters' && event.data.openAlerts.total === 1, { from });
    expect(dropped.data.openAlerts.byKind['bulk-delete']).toBe(1);
    expect((await callApi(port, 'GET', '/api/alerts/counts', { token: viewer })).body).toEqual({ total: 1, byKind: { 'bulk-delete': 1, 'critical-table': 0, 'slot-lost': 0, integrity: 0 } });
  });

  it('caps the open streams (http.liveStreamsMax: 3): one more is refused with 503 and Retry-After', async () => {
    const second = await open(viewer);
    const third = await open(manager);
    expect([second.status, third.status]).toEqual([200, 200]);
    const refused = await callApi(port, 'GET', '/api/events', { token: viewer });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ code: 'API_BUSY' });
    expect(refused.body.error!.message).toContain('http.liveStreamsMax');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    second.close();
    await second.ended;
    const deadline = Date.now() + 5_000;
    let again: EventStream;
    for (;;) {
      again = await open(viewer);
      if (again.status === 200 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(again.status).toBe(200);
    const metrics = (await callApi(port, 'GET', '/metrics')).text;
    expect(metrics).toMatch(/^walaudit_api_live_streams 3$/m);
    expect(metrics).toMatch(/^walaudit_api_live_streams_closed_total\{reason="client-left"\} [1-9]/m);
    again.close();
  });

  it('ends the streams of a revoked token within a second or so, with a revoked event', async () => {
    expect((await callApi(port, 'DELETE', `/api/tokens/${viewerId}`, { token: manager })).status).toBe(200);
    const revokedAt = Date.now();
    const revoked = await stream.waitFor((event) => event.event === 'revoked', { timeoutMs: 5_000 });
    await stream.ended;
    process.stdout.write(`live events: stream of a revoked token ended after ${revoked.at - revokedAt} ms\n`);
    expect(revoked.at - revokedAt).toBeLessThan(1_600);
  });

  it('ends every stream on SIGTERM, and start still stops cleanly and in time', async () => {
    const open1 = await open(manager);
    await open1.waitFor((event) => event.event === 'counters', { timeoutMs: 5_000 });
    const stoppedAt = Date.now();
    await start.stop('SIGTERM');
    const took = Date.now() - stoppedAt;
    await open1.ended;
    expect(open1.events.at(-1)?.event).toBe('shutdown');
    process.stdout.write(`live events: start stopped ${took} ms after SIGTERM with streams open\n`);
    expect(took).toBeLessThan(8_000);
  });
});
