import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BURST_FACTOR, SseClient, type SseCloseReason } from './sse-client.js';

/** A network that takes nothing until `drain()`: what a client that stopped reading looks like. */
function stalledNetwork() {
  const pending: (() => void)[] = [];
  const received: string[] = [];
  const out = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, callback) {
      pending.push(() => {
        received.push(chunk.toString());
        callback();
      });
    },
  });
  return { out, received, drain: () => pending.splice(0).forEach((take) => take()) };
}

describe('SseClient: bounded buffering', () => {
  it('keeps a client that reads, however much it is sent over time', () => {
    const network = stalledNetwork();
    const closes: SseCloseReason[] = [];
    const client = new SseClient(network.out, 4096, (_client, reason) => closes.push(reason));
    for (let i = 0; i < 100; i++) {
      expect(client.send('x'.repeat(1000))).toBe(true);
      network.drain();
    }
    expect(closes).toEqual([]);
    expect(network.received.join('').length).toBeGreaterThanOrEqual(99_000);
  });

  it('takes a burst above the limit, and drops the client still behind at two backlog checks in a row', () => {
    const network = stalledNetwork();
    const closes: SseCloseReason[] = [];
    const client = new SseClient(network.out, 4096, (_client, reason) => closes.push(reason));
    expect(client.send('x'.repeat(6000))).toBe(true);
    expect(client.buffered).toBe(6000);
    // A check right after the burst: the client gets until the next one.
    expect(client.checkBacklog()).toBe(true);
    network.drain();
    expect(client.checkBacklog()).toBe(true);
    expect(client.send('x'.repeat(6000))).toBe(true);
    expect(client.checkBacklog()).toBe(true);
    expect(closes).toEqual([]);
    expect(client.checkBacklog()).toBe(false);
    expect(closes).toEqual(['too-slow']);
    expect(network.out.destroyed).toBe(true);
    expect(client.send('more')).toBe(false);
    expect(closes).toEqual(['too-slow']);
  });

  it('drops a client at once when a burst passes BURST_FACTOR times the limit', () => {
    const network = stalledNetwork();
    const closes: SseCloseReason[] = [];
    const client = new SseClient(network.out, 4096, (_client, reason) => closes.push(reason));
    expect(client.send('x'.repeat(4096 * BURST_FACTOR))).toBe(true);
    expect(client.send('x')).toBe(false);
    expect(closes).toEqual(['too-slow']);
  });

  it('ends with a last frame once, and reports a client that left', async () => {
    const network = stalledNetwork();
    const closes: SseCloseReason[] = [];
    const client = new SseClient(network.out, 4096, (_client, reason) => closes.push(reason));
    client.end('shutdown', 'bye');
    client.end('shutdown', 'bye again');
    network.drain();
    expect(closes).toEqual(['shutdown']);
    expect(client.closed).toBe(true);

    const other = stalledNetwork();
    const left: SseCloseReason[] = [];
    new SseClient(other.out, 4096, (_client, reason) => left.push(reason));
    other.out.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(left).toEqual(['client-left']);
  });
});
