import { Counter, Gauge, type Registry } from 'prom-client';

/** One metric of the registry: the one already there (the API built again on the same registry), or a new one. */
function reuse<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** The API's own counters, on the pipeline's registry. */
export function createApiMetrics(registry: Registry) {
  const registers = [registry];
  return {
    authFailures: reuse(registry, 'walaudit_api_auth_failures_total', () =>
      new Counter({ name: 'walaudit_api_auth_failures_total', help: 'HTTP API requests refused for want of valid credentials, by reason (missing, invalid, rate-limited)', labelNames: ['reason'] as const, registers })),
    liveStreams: reuse(registry, 'walaudit_api_live_streams', () =>
      new Gauge({ name: 'walaudit_api_live_streams', help: 'Live event streams (GET /api/events) open now', registers })),
    liveStreamsClosed: reuse(registry, 'walaudit_api_live_streams_closed_total', () =>
      new Counter({ name: 'walaudit_api_live_streams_closed_total', help: 'Live event streams ended, by reason (client-left, too-slow, revoked, shutdown)', labelNames: ['reason'] as const, registers })),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
