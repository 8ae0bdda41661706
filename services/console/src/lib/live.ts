import { createParser } from 'eventsource-parser';
import { tokenStore } from './api.js';

export interface LiveEvent {
  event: string;
  data: unknown;
}

/**
 * GET /api/events, read with fetch: EventSource cannot send the Authorization header. Reconnects
 * after a pause (the Retry-After of a 503 when given) until `signal` aborts; events are not
 * replayed, the first `counters` event after a reconnect brings the state back.
 */
export function followEvents(onEvent: (event: LiveEvent) => void, onState: (connected: boolean) => void, signal: AbortSignal): void {
  const run = async (): Promise<void> => {
    let pause = 3000;
    try {
      const token = tokenStore.get();
      const response = await fetch('/api/events', { headers: token ? { authorization: `Bearer ${token}` } : {}, signal });
      if (response.status === 401) return;
      if (!response.ok || !response.body) {
        pause = Number(response.headers.get('retry-after') ?? 5) * 1000;
        throw new Error(`HTTP ${response.status}`);
      }
      onState(true);
      const parser = createParser({
        onEvent: (message) => {
          try {
            onEvent({ event: message.event ?? 'message', data: JSON.parse(message.data) });
          } catch {
            // a frame that is not JSON is no event of ours
          }
        },
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
    } catch {
      // network error or abort: retried below unless aborted
    }
    onState(false);
    if (!signal.aborted) setTimeout(() => void run(), pause);
  };
  void run();
}
