import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type AuditedEvent } from '@walaudit/core';
import { createClickHouseAlertStore } from '@walaudit/clickhouse';
import { createAlertMetrics, createAlerter, createRedisWindowStore, webhookNotifier, type RedisWindowStore } from '@walaudit/alerter';
import { embeddedStore } from '../support/pipeline-harness.js';
import { uniqueName } from '../support/postgres.js';
import { startHttpPeer } from '../support/alert-peers.js';
import { startLocalRedis, type LocalRedis } from '../support/redis.js';
import { deletion, describeWindowStore } from '../support/window-store-behaviour.js';

/** The alert windows in a real redis-server: the same behaviour as in memory, shared by instances. */
const quiet = { info: () => {}, warn: () => {} };
/** The one stream of standalone mode, as the audit writer passes it on. */
const STREAM = { partition: 0 };

let redis: LocalRedis;

beforeAll(async () => {
  redis = await startLocalRedis();
});
afterAll(async () => redis?.stop());

async function ready(store: RedisWindowStore): Promise<RedisWindowStore> {
  const deadline = Date.now() + 10_000;
  while (!store.healthy) {
    if (Date.now() > deadline) throw new Error('Redis window store never became healthy');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return store;
}

describeWindowStore('Redis', async () => {
  const prefix = `test:${Math.random().toString(16).slice(2)}:`;
  const a = await ready(createRedisWindowStore({ url: redis.url, log: quiet, keyPrefix: prefix }));
  const b = await ready(createRedisWindowStore({ url: redis.url, log: quiet, keyPrefix: prefix }));
  return { a, b, close: async () => Promise.all([a.close(), b.close()]).then(() => undefined) };
});

describe('two alerters sharing Redis windows', () => {
  it('each sees half of one actor\'s deletions; together they raise and store exactly one alert', async () => {
    const store = await embeddedStore(uniqueName('shared'));
    const webhook = await startHttpPeer();
    const prefix = `shared:${Math.random().toString(16).slice(2)}:`;
    const config = parseConfig({ alerts: { windowStore: 'redis', redisUrl: redis.url } }).alerts;
    const instances = await Promise.all([0, 1].map(async () => {
      const windows = await ready(createRedisWindowStore({ url: redis.url, log: quiet, keyPrefix: prefix }));
      return createAlerter({
        config, windows, alertStore: createClickHouseAlertStore(store), notifiers: [webhookNotifier(webhook.url)],
        metrics: createAlertMetrics(new Registry()), log: quiet, retry: { initialMs: 50, maxMs: 500 },
      });
    }));
    try {
      // 40 transactions of 2 rows by the same application user, alternately to each instance.
      const commitTime = new Date().toISOString();
      const batches = Array.from({ length: 40 }, (_, i): AuditedEvent[] => [0, 1].map((seq) => ({
        retentionDays: 90,
        critical: false,
        event: {
          id: `${(0x5000 + i).toString(16).toUpperCase().padStart(16, '0')}-${seq}`, op: 'delete', schema: 'public', table: 'orders', keyKind: 'primary-key',
          pk: { id: `${i}-${seq}` }, columns: [], before: { id: `${i}-${seq}` }, after: null, changed: [],
          tx: { xid: 1000 + i, lsn: `0/${(0x5000 + i).toString(16)}`, commitTime, seq }, actor: { app: { user: 'mallory' } },
        },
      })));
      await Promise.all([0, 1].map(async (n) => {
        for (let i = n; i < batches.length; i += 2) await instances[n]!.observe(batches[i]!, STREAM);
      }));
      await Promise.all(instances.map((instance) => instance.idle()));
      const alerts = await instances[0]!.list({ limit: 10 });
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ kind: 'bulk-delete', rows: 80, transactions: 40, actor: { name: 'mallory' } });
      const raised = (webhook.bodies as Array<{ event: string }>).filter((body) => body.event === 'raised');
      expect(raised).toHaveLength(1);

      // A third instance, which never saw the alert, acknowledges it: the shared window is released,
      // so mallory's next deletions count afresh and raise a new alert instead of growing that one.
      const third = createAlerter({
        config, windows: await ready(createRedisWindowStore({ url: redis.url, log: quiet, keyPrefix: prefix })), alertStore: createClickHouseAlertStore(store),
        notifiers: [], metrics: createAlertMetrics(new Registry()), log: quiet, retry: { initialMs: 50, maxMs: 500 },
      });
      await third.acknowledge({ ids: [alerts[0]!.id], by: 'dana' });
      await third.close();
      const more = batches.map((batch, i) => batch.map((audited) => ({ ...audited, event: { ...audited.event, id: audited.event.id.replace(/^0000/, '0001'), tx: { ...audited.event.tx, xid: 2000 + i } } })));
      for (const batch of more.slice(0, 30)) await instances[0]!.observe(batch, STREAM);
      const after = await instances[1]!.list({ limit: 10 });
      expect(after).toHaveLength(2);
      expect(after.find((alert) => alert.id === alerts[0]!.id)).toMatchObject({ status: 'acknowledged', rows: 80 });
      expect(after.find((alert) => alert.id !== alerts[0]!.id)).toMatchObject({ status: 'open', rows: 60 });
    } finally {
      await Promise.all(instances.map((instance) => instance.close()));
      await webhook.close();
      await store.close();
    }
  });
});

describe('Redis window store while Redis is down', () => {
  it('counts locally, says so in its metrics, raises the alert, and merges the local window back', async () => {
    const own = await startLocalRedis();
    const registry = new Registry();
    const metrics = createAlertMetrics(registry);
    const store = await ready(createRedisWindowStore({ url: own.url, log: quiet, metrics }));
    const rule = { threshold: 50, windowMs: 600_000 };
    const t0 = Date.parse('2026-11-24T10:00:00Z');
    expect((await store.add('dave\u0000default', deletion(30, t0), rule)).kind).toBe('below');
    await own.stop();
    // While Redis is down the alert is still raised, from the local window.
    const during = await store.add('erin\u0000default', deletion(60, t0), rule);
    expect(during.kind).toBe('opened');
    expect(store.healthy).toBe(false);
    expect(await registry.getSingleMetricAsString('walaudit_alert_window_store_up')).toMatch(/walaudit_alert_window_store_up 0/);
    expect((await store.add('frank\u0000default', deletion(30, t0), rule)).kind).toBe('below');
    await store.close();

    // Back on the same port: a new instance finds nothing (no persistence), the old one merges in.
    const back = await startLocalRedisOnPort(own.port);
    try {
      const merging = createRedisWindowStore({ url: back.url, log: quiet, metrics });
      await merging.add('frank\u0000default', deletion(30, t0), rule); // local: Redis not ready yet
      await ready(merging);
      await merging.reconciled();
      const other = await ready(createRedisWindowStore({ url: back.url, log: quiet }));
      // Frank's 30 local rows were merged into Redis: 30 more in another instance cross the threshold.
      expect((await other.add('frank\u0000default', deletion(30, t0 + 1000), rule)).kind).toBe('opened');
      await merging.close();
      await other.close();
    } finally {
      await back.stop();
    }
  });
});

async function startLocalRedisOnPort(port: number): Promise<LocalRedis> {
  const { spawn } = await import('node:child_process');
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
