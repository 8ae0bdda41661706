import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, Notifier } from '@walaudit/core';
import {
  createAlertMetrics,
  DeliveryQueue,
  emailNotifier,
  pagerdutyNotifier,
  syslogNotifier,
  webhookNotifier,
  type AlertMetrics,
} from '@walaudit/alerter';
import { findFreePort } from '@walaudit/pg';
import { startHttpPeer, startSyslogPeer, type HttpPeer, type SyslogPeer } from '../support/alert-peers.js';

/** Every notifier against a real local peer: HTTP, SMTP (smtp-server), syslog over UDP and TCP. */
const ALERT: Alert = {
  id: '0123456789ab',
  kind: 'critical-table',
  version: 1,
  status: 'open',
  actor: { name: 'alice@example.com', appUser: 'alice@example.com', dbUser: 'app', ip: '10.1.2.3', applicationName: 'shop-api' },
  tables: [{ table: 'public.payments', rows: 3, allRows: false }],
  rows: 3,
  allRows: false,
  window: null,
  xid: 4242,
  xids: [4242],
  transactions: 1,
  firstCommitTime: '2026-11-24T10:00:00.000001Z',
  lastCommitTime: '2026-11-24T10:00:00.000001Z',
  firstEntryId: '0000000001A2B3C4-0',
  lastEntryId: '0000000001A2B3C4-2',
  keys: [{ id: '1' }, { id: '2' }, { id: '3' }],
  raisedAt: '2026-11-24T10:00:00.100Z',
  updatedAt: '2026-11-24T10:00:00.100Z',
  acknowledgement: null,
};

const FAST = { attempts: 3, timeoutMs: 500, initialMs: 20, maxMs: 100 };
const quietLog = () => {};

async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
  const value = (metric?.values as Array<{ labels: Record<string, string>; value: number }> | undefined)?.find((entry) =>
    Object.entries(labels).every(([key, expected]) => entry.labels[key] === expected),
  );
  return value?.value ?? 0;
}

describe('alert notifiers against real peers', () => {
  let http: HttpPeer;
  let syslog: SyslogPeer;
  let registry: Registry;
  let metrics: AlertMetrics;

  beforeAll(async () => {
    http = await startHttpPeer();
    syslog = await startSyslogPeer();
  });
  afterAll(async () => {
    await http?.close();
    await syslog?.close();
  });

  const queue = (notifier: Notifier, policy = FAST) => {
    registry = new Registry();
    metrics = createAlertMetrics(registry);
    return new DeliveryQueue(notifier, policy, metrics, quietLog);
  };

  it('webhook: a JSON body with a Slack-compatible text and the whole alert', async () => {
    http.bodies.length = 0;
    const q = queue(webhookNotifier(http.url));
    q.enqueue(ALERT, 'raised');
    const [body] = (await http.waitFor(1)) as Array<{ text: string; event: string; alert: Alert }>;
    expect(body!.text).toBe('[walaudit] critical table: alice@example.com from 10.1.2.3 (shop-api) deleted 3 rows in transaction 4242: public.payments 3 rows; alert 0123456789ab');
    expect(body!.alert).toEqual(ALERT);
    await q.idle();
    expect(await counter(registry, 'walaudit_alert_deliveries_total', { channel: 'webhook', outcome: 'delivered' })).toBe(1);
  });

  it('PagerDuty: Events API v2 trigger with dedup_key = alert id, then acknowledge', async () => {
    http.bodies.length = 0;
    const q = queue(pagerdutyNotifier(http.url, 'routing-key-1'));
    q.enqueue(ALERT, 'raised');
    q.enqueue({ ...ALERT, status: 'acknowledged', acknowledgement: { by: 'dana', at: ALERT.raisedAt, note: '' } }, 'acknowledged');
    const [trigger, ack] = (await http.waitFor(2)) as Array<Record<string, unknown>>;
    expect(trigger).toMatchObject({
      routing_key: 'routing-key-1',
      event_action: 'trigger',
      dedup_key: ALERT.id,
      payload: { severity: 'critical', source: '10.1.2.3', class: 'critical-table', component: 'public.payments', group: 'alice@example.com', timestamp: ALERT.raisedAt },
    });
    expect(ack).toEqual({ routing_key: 'routing-key-1', event_action: 'acknowledge', dedup_key: ALERT.id });
  });

  it('a URL that refuses: every attempt counted, then failed; a 4xx is not retried', async () => {
    const closedPort = await findFreePort();
    const q = queue(webhookNotifier(`http://127.0.0.1:${closedPort}/hook`));
    q.enqueue(ALERT, 'raised');
    await q.idle();
    expect(await counter(registry, 'walaudit_alert_delivery_attempts_total', { channel: 'webhook', result: 'error' })).toBe(3);
    expect(await counter(registry, 'walaudit_alert_deliveries_total', { channel: 'webhook', outcome: 'failed' })).toBe(1);

    http.respondWith = 403;
    const requestsBefore = http.requests;
    const rejected = queue(webhookNotifier(http.url));
    rejected.enqueue(ALERT, 'raised');
    await rejected.idle();
    http.respondWith = 200;
    expect(http.requests - requestsBefore).toBe(1);
    expect(await counter(registry, 'walaudit_alert_deliveries_total', { channel: 'webhook', outcome: 'failed' })).toBe(1);
  });

  it('a URL that times out fails on its own queue while another channel delivers', async () => {
    const slow = await startHttpPeer();
    slow.delayMs = 5_000;
    try {
      http.bodies.length = 0;
      const hanging = queue(webhookNotifier(slow.url), { ...FAST, attempts: 2, timeoutMs: 200 });
      const hangingRegistry = registry;
      const healthy = queue(webhookNotifier(http.url));
      hanging.enqueue(ALERT, 'raised');
      healthy.enqueue(ALERT, 'raised');
      await http.waitFor(1);
      // The healthy channel delivered while the hanging one is still on its attempts.
      expect(slow.bodies).toHaveLength(0);
      await hanging.idle();
      expect(await counter(hangingRegistry, 'walaudit_alert_delivery_attempts_total', { channel: 'webhook', result: 'error' })).toBe(2);
      expect(await counter(hangingRegistry, 'walaudit_alert_deliveries_total', { channel: 'webhook', outcome: 'failed' })).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it('e-mail: the SMTP server receives the alert; a server that rejects fails without retrying', async () => {
    const received: string[] = [];
    let rcptAttempts = 0;
    let reject = false;
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(_address, _session, callback) {
        rcptAttempts++;
        if (reject) return callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
        callback();
      },
      onData(stream, _session, callback) {
        let text = '';
        stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        stream.on('end', () => {
          // Long lines arrive quoted-printable: undo the soft line breaks.
          received.push(text.replace(/=\r\n/g, ''));
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
    const port = (smtp.server.address() as AddressInfo).port;
    try {
      const q = queue(emailNotifier({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'walaudit@example.com', to: ['oncall@example.com'], timeoutMs: 2_000 }));
      q.enqueue(ALERT, 'raised');
      await q.idle();
      expect(received).toHaveLength(1);
      expect(received[0]).toMatch(/Subject: \[walaudit\] critical table: alice@example.com/);
      expect(received[0]).toMatch(/To: oncall@example.com/);
      expect(received[0]).toContain('walaudit alerts ack 0123456789ab');

      reject = true;
      rcptAttempts = 0;
      const rejected = queue(emailNotifier({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'walaudit@example.com', to: ['nobody@example.com'], timeoutMs: 2_000 }));
      rejected.enqueue(ALERT, 'raised');
      await rejected.idle();
      expect(rcptAttempts).toBe(1);
      expect(await counter(registry, 'walaudit_alert_deliveries_total', { channel: 'email', outcome: 'failed' })).toBe(1);
      expect(received).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });

  it('syslog: RFC 5424 over UDP and over TCP (octet counting)', async () => {
    syslog.messages.length = 0;
    const udp = queue(syslogNotifier({ host: '127.0.0.1', port: syslog.udpPort, protocol: 'udp' }));
    udp.enqueue(ALERT, 'raised');
    const tcp = queue(syslogNotifier({ host: '127.0.0.1', port: syslog.tcpPort, protocol: 'tcp' }));
    tcp.enqueue({ ...ALERT, kind: 'bulk-delete', window: { minutes: 10, threshold: 50, start: ALERT.firstCommitTime } }, 'updated');
    const messages = await syslog.waitFor(2);
    const rfc5424 = /^<(\d+)>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ walaudit \d+ (\S+) \[walaudit@32473 [^\]]*\] (.+)$/;
    const parsed = messages.map((message) => rfc5424.exec(message));
    expect(parsed.every(Boolean)).toBe(true);
    const critical = parsed.find((match) => match![2] === 'critical-table')!;
    expect(critical[1]).toBe(String(16 * 8 + 1));
    expect(critical[0]).toContain('id="0123456789ab"');
    expect(critical[0]).toContain('actor="alice@example.com"');
    const bulk = parsed.find((match) => match![2] === 'bulk-delete')!;
    expect(bulk[1]).toBe(String(16 * 8 + 4));
    expect(bulk[3]).toMatch(/^\(update\) \[walaudit\] bulk delete/);
  });

  it('syslog over TCP to a closed port: retried, then failed', async () => {
    const server = createTcpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const q = queue(syslogNotifier({ host: '127.0.0.1', port, protocol: 'tcp' }));
    q.enqueue(ALERT, 'raised');
    await q.idle();
    expect(await counter(registry, 'walaudit_alert_delivery_attempts_total', { channel: 'syslog', result: 'error' })).toBe(3);
  });
});
