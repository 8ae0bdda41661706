import { Counter, type Registry } from 'prom-client';

/** The API's own counters, on the pipeline's registry. */
export function createApiMetrics(registry: Registry) {
  const existing = registry.getSingleMetric('walaudit_api_auth_failures_total');
  return {
    authFailures: (existing as Counter<'reason'> | undefined) ??
      new Counter({ name: 'walaudit_api_auth_failures_total', help: 'HTTP API requests refused for want of valid credentials, by reason (missing, invalid, rate-limited)', labelNames: ['reason'] as const, registers: [registry] }),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
