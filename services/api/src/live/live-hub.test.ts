import { PassThrough } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '@walaudit/core';
import type { AlertFeedEvent } from '../api-deps.js';
import { createApiMetrics } from '../api-metrics.js';
import { LiveHub } from './live-hub.js';
import type { CountersSource, LiveCounters } from './live-counters.js';
import { parseSseChunk, type ParsedSseEvent } from './sse-frame.js';

/** A client that reads everything: the events it parsed so far. */
function reader() {
  const out = new PassThrough();
  const events: ParsedSseEvent[] = [];
  let text = '';
  let rest = '';
  out.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    const parsed = parseSseChunk(rest + chunk.toString());
    rest = parsed.rest;
    events.push(...parsed.events);
  });
  return { out, events, text: () => text };
}

const counters = (entriesStored: number): LiveCounters => ({
  openAlerts: { total: 0, byKind: { 'bulk-delete': 0, 'critical-table': 0, 'slot-lost': 0, integrity: 0 } },
  entriesStored,
  pipeline: { state: 'running', slotActive: true, lagBytes: 0, slotLost: false },
});

const tick = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

const hubs: LiveHub[] = [];
afterEach(() => hubs.splice(0).forEach((hub) => hub.close()));

function makeHub(options: { maxStreams?: number; heartbeatMs?: number; tickMs?: number; now?: () => number } = {}) {
  const state = { entries: 1, reads: 0, alertsChanged: 0 };
  const source: CountersSource = {
    alertsChanged: () => void state.alertsChanged++,
    read: async () => {
      state.reads++;
      return counters(state.entries);
    },
  };
  let listener: ((alert: Alert, event: AlertFeedEvent) => void) | null = null;
  const registry = new Registry();
  const hub = new LiveHub({
    maxStreams: options.maxStreams ?? 10,
    bufferBytes: 64 * 1024,
    counters: source,
    feed: { watch: (next) => ((listener = next), () => (listener = null)) },
    metrics: createApiMetrics(registry),
    tickMs: options.tickMs ?? 10,
    heartbeatMs: options.heartbeatMs ?? 60_000,
    now: options.now,
  });
  hubs.push(hub);
  return { hub, state, registry, emit: (alert: Partial<Alert>, event: AlertFeedEvent) => listener?.(alert as Alert, event), hasListener: () => listener !== null };
}

describe('LiveHub', () => {
  it('sends counters on connect, then only when they change', async () => {
    const { hub, state } = makeHub();
    const client = reader();
    hub.add(client.out);
    await tick();
    expect(client.events.filter((event) => event.event === 'counters').map((event) => JSON.parse(event.data).entriesStored)).toEqual([1]);
    state.entries = 5;
    await tick();
    await tick();
    expect(client.events.filter((event) => event.event === 'counters').map((event) => JSON.parse(event.data).entriesStored)).toEqual([1, 5]);
    expect(state.reads).toBeGreaterThan(2);
  });

  it('sends alert events to every stream and marks the counts stale', async () => {
    const { hub, state, emit } = makeHub();
    const first = reader();
    const second = reader();
    hub.add(first.out);
    hub.add(second.out);
    emit({ id: 'a1', kind: 'bulk-delete' }, 'raised');
    emit({ id: 'a1', kind: 'bulk-delete' }, 'acknowledged');
    await tick();
    for (const client of [first, second]) {
      expect(client.events.filter((event) => event.event.startsWith('alert')).map((event) => [event.event, JSON.parse(event.data).id])).toEqual([['alert', 'a1'], ['alert-acknowledged', 'a1']]);
    }
    expect(state.alertsChanged).toBe(2);
  });

  it('reads the counters at once after an alert event, at most once a tick for a storm of them', async () => {
    const clock = { now: 0 };
    const { hub, state, emit } = makeHub({ tickMs: 60_000, now: () => clock.now });
    hub.add(reader().out);
    await tick();
    const reads = state.reads;
    for (let i = 0; i < 50; i++) emit({ id: `a${i}`, kind: 'bulk-delete' }, 'raised');
    await tick();
    expect(state.reads).toBe(reads + 1);
    clock.now = 59_000;
    emit({ id: 'b', kind: 'bulk-delete' }, 'raised');
    await tick();
    expect(state.reads).toBe(reads + 1);
    clock.now = 60_000;
    emit({ id: 'c', kind: 'bulk-delete' }, 'raised');
    await tick();
    expect(state.reads).toBe(reads + 2);
  });

  it('refuses a stream past the cap with API_BUSY, and takes one again once a stream left', async () => {
    const { hub, registry } = makeHub({ maxStreams: 2 });
    const first = reader();
    hub.add(first.out);
    hub.add(reader().out);
    expect(() => hub.add(reader().out)).toThrow(expect.objectContaining({ code: 'API_BUSY', message: expect.stringContaining('http.liveStreamsMax') }));
    first.out.destroy();
    await tick();
    expect(hub.size).toBe(1);
    const gone = reader();
    gone.out.destroy();
    expect(hub.add(gone.out)).toBeNull();
    expect(hub.size).toBe(1);
    expect(() => hub.add(reader().out)).not.toThrow();
    expect(await registry.getSingleMetricAsString('walaudit_api_live_streams_closed_total')).toContain('reason="client-left"} 1');
  });

  it('sends heartbeat comments, stops its timers with the last stream, and ends every stream on close', async () => {
    const { hub, state, hasListener } = makeHub({ heartbeatMs: 10 });
    const client = reader();
    hub.add(client.out);
    await tick(50);
    expect(client.text()).toMatch(/^: keep-alive$/m);
    let ended = false;
    client.out.on('end', () => (ended = true));
    hub.close();
    await tick();
    expect(client.events.at(-1)?.event).toBe('shutdown');
    expect(ended).toBe(true);
    expect(hasListener()).toBe(false);
    const reads = state.reads;
    await tick(50);
    expect(state.reads).toBe(reads);
    expect(() => hub.add(reader().out)).toThrow(expect.objectContaining({ code: 'API_BUSY' }));
  });

  it('ends a stream whose credentials no longer hold, with a revoked event', async () => {
    const { hub } = makeHub();
    const client = reader();
    let allowed = true;
    hub.add(client.out, async () => allowed);
    await tick();
    expect(hub.size).toBe(1);
    allowed = false;
    await tick();
    expect(hub.size).toBe(0);
    expect(client.events.at(-1)?.event).toBe('revoked');
  });
});
