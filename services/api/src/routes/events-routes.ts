import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiServerDeps } from '../api-deps.js';
import type { ApiMetrics } from '../api-metrics.js';
import { bearerToken } from '../auth/api-token.js';
import { principalOf } from '../auth/auth-hook.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { createCountersSource } from '../live/live-counters.js';
import { LiveHub } from '../live/live-hub.js';

/** Alerts raised or acknowledged by another process sharing the store show in the counters within this. */
const ALERT_COUNTS_MAX_AGE_MS = 10_000;

/** How long a client refused for want of a free stream should wait before trying again. */
const BUSY_RETRY_AFTER_S = 5;

const STREAM_DESCRIPTION = `text/event-stream, never ending: \`counters\` on connect and whenever they change (at most once a second),
\`alert\` / \`alert-updated\` / \`alert-acknowledged\` with the alert, \`revoked\` or \`shutdown\` before the server ends the stream,
and a comment every 15 s. Authenticate with the Authorization header like every route (read it with fetch, not EventSource).`;

/**
 * `GET /api/events`: a live view for the console. The stream is opened with the request's own
 * credentials; a token revoked later ends it within a second. Streams are ended before the server
 * closes, so `start` still stops within its deadline with consoles open.
 */
export const eventsRoutes: FastifyPluginAsyncZod<{ deps: ApiServerDeps; verifier: TokenVerifier; metrics: ApiMetrics }> = async (app, { deps, verifier, metrics }) => {
  const alerts = deps.alerts;
  const counters = createCountersSource({ status: deps.status, openCounts: alerts ? () => alerts.openCounts() : undefined, alertCountsMaxAgeMs: ALERT_COUNTS_MAX_AGE_MS });
  const hub = new LiveHub({ maxStreams: deps.http.liveStreamsMax, bufferBytes: deps.http.liveStreamBufferBytes, counters, feed: deps.alertFeed, metrics, log: deps.log });
  app.addHook('preClose', async () => hub.close());

  app.get(
    '/api/events',
    {
      schema: {
        tags: ['live'],
        summary: 'Live events for a console: alerts as raised and acknowledged, counters as they change (server-sent events)',
        description: STREAM_DESCRIPTION,
        produces: ['text/event-stream'],
        response: { 200: z.string().describe(STREAM_DESCRIPTION) },
      },
      config: { role: 'viewer' },
      // A HEAD would open a stream that can send nothing.
      exposeHeadRoute: false,
    },
    async (request, reply) => {
      const principal = principalOf(request);
      try {
        hub.checkRoom();
      } catch (error) {
        reply.header('retry-after', String(BUSY_RETRY_AFTER_S));
        throw error;
      }
      const token = principal.via === 'token' ? bearerToken(request.headers.authorization) : undefined;
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string | number | string[]>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-store, no-transform',
        // nginx and the like would otherwise hold events back to fill their buffers.
        'x-accel-buffering': 'no',
        // The response never ends by itself, so the connection is never reused: closing it with
        // the stream lets a stopping server finish at once.
        connection: 'close',
      });
      raw.socket?.setNoDelay(true);
      hub.add(raw, token ? async () => (await verifier.verify(token)) !== null : undefined);
    },
  );
};
