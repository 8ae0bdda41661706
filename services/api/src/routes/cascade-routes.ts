import { WalauditError } from '@walaudit/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiServerDeps } from '../api-deps.js';
import { cascadeSchema, type CascadeAnswer } from './process-schemas.js';

export const cascadeRoutes: FastifyPluginAsyncZod<{ deps: ApiServerDeps }> = async (app, { deps }) => {
  app.get(
    '/api/cascade',
    { schema: { tags: ['audit trail'], summary: 'An entry and everything its deletion removed or nulled (walaudit log --caused-by)', querystring: z.object({ 'caused-by': z.string().min(1).describe('Entry id (00000000019C3E28-0)') }), response: { 200: cascadeSchema } }, config: { role: 'viewer' } },
    async (request) => {
      if (!deps.cascade) throw new WalauditError('STORE_NOT_FOUND', 'this process holds no store (a distributed reader): ask a writer');
      return (await deps.cascade.causedBy(request.query['caused-by'])) as CascadeAnswer;
    },
  );
};
