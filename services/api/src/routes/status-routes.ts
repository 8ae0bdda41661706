import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiServerDeps } from '../api-deps.js';
import { statusSchema } from './process-schemas.js';

export const statusRoutes: FastifyPluginAsyncZod<{ deps: ApiServerDeps }> = async (app, { deps }) => {
  app.get('/api/status', { schema: { tags: ['process'], summary: 'State of the pipeline: slot, lag, store, alerts (walaudit status)', response: { 200: statusSchema } }, config: { role: 'viewer' } }, async () => deps.status());
};
