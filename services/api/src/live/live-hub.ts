import type { Writable } from 'node:stream';
import { describeError, WalauditError } from '@walaudit/core';
import type { AlertFeed, AlertFeedEvent } from '../api-deps.js';
import type { ApiMetrics } from '../api-metrics.js';
import type { CountersSource } from './live-counters.js';
import { SseClient, type SseCloseReason } from './sse-client.js';
import { sseComment, sseEvent } from './sse-frame.js';

export interface LiveHubOptions {
  maxStreams: number;
  bufferBytes: number;
  counters: CountersSource;
  /** Alerts raised and acknowledged by this process; absent where alerts are disabled. */
  feed?: AlertFeed;
  metrics: Pick<ApiMetrics, 'liveStreams' | 'liveStreamsClosed'>;
  log?: { warn(message: string): void };
  /** How often counters are read and compared, and credentials checked again. */
  tickMs?: number;
  /** How often a comment is sent, so proxies and load balancers see an idle stream is alive. */
  heartbeatMs?: number;
  now?: () => number;
}

/** The event each alert change is sent as. */
const EVENT_OF: Record<AlertFeedEvent, string> = { raised: 'alert', updated: 'alert-updated', acknowledged: 'alert-acknowledged' };

interface Stream {
  client: SseClient;
  /** The counters frame this client was last sent: it gets a new one only when they changed. */
  lastCounters: string | null;
  /** Whether the credentials the stream was opened with still hold (a revoked token ends it). */
  stillAllowed?: () => Promise<boolean>;
}

/**
 * The open event streams of one API: alert events as they happen, counters when they change (read
 * at most once a tick), a heartbeat comment. Timers run only while a stream is open, so an API
 * nobody watches asks the store nothing.
 */
export class LiveHub {
  private readonly streams = new Map<SseClient, Stream>();
  private readonly tickMs: number;
  private readonly heartbeatMs: number;
  private readonly unwatch: () => void;
  private ticker: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  /** When an alert event last made the counters be read out of turn. */
  private alertRefreshAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private closing = false;

  constructor(private readonly options: LiveHubOptions) {
    this.tickMs = options.tickMs ?? 1_000;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.now = options.now ?? Date.now;
    this.unwatch = options.feed?.watch((alert, event) => {
      options.counters.alertsChanged();
      this.broadcast(sseEvent(EVENT_OF[event], alert));
      // The counters follow the alert at once; in a storm of alerts, at most once more a tick.
      if (this.streams.size > 0 && this.now() - this.alertRefreshAt >= this.tickMs) {
        this.alertRefreshAt = this.now();
        void this.refresh();
      }
    }) ?? (() => undefined);
  }

  get size(): number {
    return this.streams.size;
  }

  /** Refuses a stream over `http.liveStreamsMax`, or while stopping; call before the response starts. */
  checkRoom(): void {
    if (this.closing) throw new WalauditError('API_BUSY', 'walaudit is stopping; reconnect to the next start');
    if (this.streams.size >= this.options.maxStreams) {
      throw new WalauditError('API_BUSY', `${this.streams.size} live event streams are open, the most http.liveStreamsMax allows; close one (a console tab) or raise the limit`);
    }
  }

  /** Takes a response whose event-stream headers are written; sends it the counters at once. Null when its client already left. */
  add(out: Writable, stillAllowed?: () => Promise<boolean>): SseClient | null {
    this.checkRoom();
    // The client left before its stream started: its close event is gone, so it is not taken.
    if (out.destroyed) return null;
    const client = new SseClient(out, this.options.bufferBytes, (closed, reason) => this.closed(closed, reason));
    this.streams.set(client, { client, lastCounters: null, stillAllowed });
    this.options.metrics.liveStreams.set(this.streams.size);
    if (!this.ticker) this.startTimers();
    // Flushes the headers and says the stream is open before the first counters are read.
    client.send(sseComment('walaudit live events'));
    void this.refresh();
    return client;
  }

  /** Ends every stream (the server is stopping) and stops the timers; later streams are refused. */
  close(): void {
    this.closing = true;
    this.unwatch();
    this.stopTimers();
    const bye = sseEvent('shutdown', { message: 'walaudit is stopping; reconnect in a moment' });
    for (const stream of [...this.streams.values()]) stream.client.end('shutdown', bye);
  }

  private closed(client: SseClient, reason: SseCloseReason): void {
    if (!this.streams.delete(client)) return;
    this.options.metrics.liveStreams.set(this.streams.size);
    this.options.metrics.liveStreamsClosed.inc({ reason });
    if (this.streams.size === 0) this.stopTimers();
  }

  private broadcast(frame: string): void {
    for (const stream of [...this.streams.values()]) stream.client.send(frame);
  }

  private startTimers(): void {
    this.ticker = setInterval(() => void this.tick(), this.tickMs);
    this.heartbeat = setInterval(() => this.broadcast(sseComment('keep-alive')), this.heartbeatMs);
    this.ticker.unref();
    this.heartbeat.unref();
  }

  private stopTimers(): void {
    if (this.ticker) clearInterval(this.ticker);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.ticker = null;
    this.heartbeat = null;
  }

  private async tick(): Promise<void> {
    for (const stream of [...this.streams.values()]) stream.client.checkBacklog();
    await Promise.all([this.refresh(), this.recheck()]);
  }

  /** Reads the counters once and sends them to each stream whose last counters differ. */
  private refresh(): Promise<void> {
    if (this.refreshing) {
      // A stream added while a read is under way gets the next one.
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          const frame = sseEvent('counters', await this.options.counters.read());
          for (const stream of [...this.streams.values()]) {
            if (stream.lastCounters === frame) continue;
            stream.lastCounters = frame;
            stream.client.send(frame);
          }
        } catch (error) {
          this.options.log?.warn(`live events: reading the counters failed (kept the last ones): ${describeError(error)}`);
        }
      } while (this.refreshAgain && this.streams.size > 0);
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** A token revoked after a stream opened ends that stream within a tick, as it would any request. */
  private async recheck(): Promise<void> {
    await Promise.all([...this.streams.values()].map(async (stream) => {
      if (!stream.stillAllowed || stream.client.closed) return;
      try {
        if (await stream.stillAllowed()) return;
      } catch (error) {
        // The token store does not answer: the stream stays; requests say what is wrong.
        this.options.log?.warn(`live events: checking a stream's token failed: ${describeError(error)}`);
        return;
      }
      stream.client.end('revoked', sseEvent('revoked', { message: 'the token of this stream was revoked: ask a manager for a token (POST /api/tokens)' }));
    }));
  }
}
