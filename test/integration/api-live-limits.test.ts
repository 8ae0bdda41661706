import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createPipelineMetrics, newApiToken, startApiServer, type AlertFeed, type AlertFeedEvent, type ApiServer } from '@walaudit/api';
import { parseConfig, type Alert } from '@walaudit/core';
import { callApi } from '../support/api-client.js';
import { openEventStream } from '../support/event-stream.js';

/** The per-client bound of the live event stream, over real sockets: a client that stops reading is dropped. */
describe('HTTP API: live events to a client that stops reading', () => {
  const servers: ApiServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  it('drops the stalled stream once its buffer passes http.liveStreamBufferBytes, and keeps serving the others', async () => {
    const { token } = newApiToken();
    const listeners = new Set<(alert: Alert, event: AlertFeedEvent) => void>();
    const feed: AlertFeed = { watch: (listener) => (listeners.add(listener), () => listeners.delete(listener)) };
    const http = parseConfig({ http: { port: 0, liveStreamBufferBytes: 64 * 1024, rateLimitPerMinute: 0 } }).http;
    const registry = createPipelineMetrics().registry;
    const api = await startApiServer({ http, localToken: { token, file: '(test)' }, status: async () => ({ state: 'running', entriesStored: 0, slotActive: true, lagBytes: 0 }) as never, registry, alertFeed: feed });
    servers.push(api);

    // A client that sends its request and then never reads: what a frozen tab or a stalled proxy is.
    const stalled = connect(api.port, '127.0.0.1');
    await new Promise((resolve) => stalled.once('connect', resolve));
    stalled.pause();
    stalled.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${api.port}\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    const stalledClosed = new Promise((resolve) => stalled.once('close', resolve));
    const reading = await openEventStream(api.port, token);
    expect(reading.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Bursts of ten 10 KB alerts until the stalled stream is dropped (the kernel's socket buffers
    // take some MB first); the reading client takes each burst well within a tick.
    const big = { id: 'a', kind: 'bulk-delete', keys: [{ note: 'x'.repeat(10_000) }] } as unknown as Alert;
    let sent = 0;
    const metric = async () => (await callApi(api.port, 'GET', '/metrics')).text;
    while (!/walaudit_api_live_streams_closed_total\{reason="too-slow"\} 1/.test(await metric())) {
      for (let i = 0; i < 10; i++, sent++) for (const listener of listeners) listener({ ...big, id: `a${sent}` }, 'raised');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(sent).toBeLessThan(50_000);
    }
    // A paused socket reports the server's close only once read again.
    stalled.resume();
    await stalledClosed;
    process.stdout.write(`live events: stalled client dropped after ${sent} alerts of 10 KB (${(sent * 10) / 1000} MB sent)\n`);
    await reading.waitFor((event) => event.event === 'alert' && event.data.id === `a${sent - 1}`, { timeoutMs: 10_000 });
    expect(reading.events.filter((event) => event.event === 'alert')).toHaveLength(sent);
    expect(await metric()).toMatch(/^walaudit_api_live_streams 1$/m);
    reading.close();
  });
});
