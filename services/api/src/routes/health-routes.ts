import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiServerDeps } from '../api-deps.js';
import { healthSchema, metricsSchema } from './process-schemas.js';

/** `/health` for probes (public), `/metrics` for Prometheus (public unless http.metricsPublic is false). */
export const healthRoutes: FastifyPluginAsyncZod<{ deps: ApiServerDeps }> = async (app, { deps }) => {
  app.get('/health', { schema: { tags: ['process'], summary: 'Whether the pipeline runs: 200 running or starting, 503 otherwise (and always while the slot is lost)', response: { 200: healthSchema, 503: healthSchema } }, config: { role: 'public' } }, async (_request, reply) => {
    const status = await deps.status();
    // A lost slot is unhealthy whatever the state: changes are going unaudited.
    const lost = status.slotLost ?? null;
    const healthy = !lost && (status.state === 'running' || status.state === 'starting');
    // Still healthy, but worth a probe's attention: a slot Postgres may invalidate at the next
    // checkpoint, partitions whose deletes carry only the key until setup runs again.
    const atRisk = status.slotAtRisk ? { walStatus: status.slotAtRisk.walStatus, safeWalBytes: status.slotAtRisk.safeWalBytes } : null;
    const unprepared = status.unpreparedPartitions?.length ?? 0;
    return reply.code(healthy ? 200 : 503).send({
      status: healthy ? 'ok' : lost ? 'slot-lost' : status.state,
      lastError: status.lastError,
      ...(lost ? { slotLost: lost } : {}),
      ...(atRisk && !lost ? { slotAtRisk: atRisk } : {}),
      ...(unprepared > 0 ? { partitionsNeedingSetup: unprepared } : {}),
    });
  });
  app.get('/metrics', { schema: { tags: ['process'], summary: 'Prometheus metrics (counts and lag, never audited values)', response: { 200: metricsSchema } }, config: { role: deps.http.metricsPublic ? 'public' : 'viewer' } }, async (_request, reply) => {
    return reply.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
};
