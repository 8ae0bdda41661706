import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import { parseSseChunk, type ParsedSseEvent } from '@walaudit/api';

export interface EventStream {
  status: number;
  headers: IncomingHttpHeaders;
  /** Every event received so far, in order, data parsed as JSON. */
  events: { event: string; data: any; at: number }[];
  /** The first event after index `from` that matches; rejects after `timeoutMs` or when the stream ends first. */
  waitFor(predicate: (event: { event: string; data: any }) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<{ event: string; data: any; at: number }>;
  /** Resolves when the server ended the stream (or the connection closed). */
  ended: Promise<void>;
  /** Raw text received, comments included. */
  text(): string;
  close(): void;
}

/**
 * `GET /api/events` read as a console reads it with fetch streaming: the bearer token in the
 * Authorization header, events parsed as they arrive (nothing is polled).
 */
export function openEventStream(port: number, token: string | undefined, path = '/api/events'): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    let request: ClientRequest;
    request = httpRequest({ host: '127.0.0.1', port, method: 'GET', path, headers: token ? { authorization: `Bearer ${token}`, accept: 'text/event-stream' } : {} }, (response) => {
      const events: EventStream['events'] = [];
      const waiters = new Set<() => void>();
      let text = '';
      let rest = '';
      let done = false;
      const ended = new Promise<void>((end) => {
        const finish = () => {
          done = true;
          for (const wake of waiters) wake();
          end();
        };
        response.on('end', finish);
        response.on('close', finish);
        response.on('error', finish);
      });
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const parsed = parseSseChunk(rest + chunk.toString());
        rest = parsed.rest;
        for (const event of parsed.events as ParsedSseEvent[]) {
          let data: unknown = event.data;
          try {
            data = JSON.parse(event.data);
          } catch {
            // Not JSON: kept as text.
          }
          events.push({ event: event.event, data, at: Date.now() });
        }
        for (const wake of waiters) wake();
      });
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        events,
        ended,
        text: () => text,
        close: () => request.destroy(),
        waitFor(predicate, options = {}) {
          const from = options.from ?? 0;
          return new Promise((found, fail) => {
            const check = () => {
              const match = events.slice(from).find(predicate);
              if (match) return finish(() => found(match));
              if (done) return finish(() => fail(new Error(`the stream ended before the event came; received: ${JSON.stringify(events)}`)));
            };
            const timer = setTimeout(() => finish(() => fail(new Error(`no such event within ${options.timeoutMs ?? 30_000} ms; received: ${JSON.stringify(events)}`))), options.timeoutMs ?? 30_000);
            const finish = (then: () => void) => {
              clearTimeout(timer);
              waiters.delete(check);
              then();
            };
            waiters.add(check);
            check();
          });
        },
      });
    });
    request.on('error', reject);
    request.end();
  });
}
