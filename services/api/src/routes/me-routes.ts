import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { API_ROLES } from '@walaudit/core';
import { principalOf } from '../auth/auth-hook.js';

const meAnswer = z.object({
  name: z.string().describe('The token\'s name, the proxy\'s user, or "local" for the token walaudit start wrote'),
  role: z.enum(API_ROLES as [string, ...string[]]),
  via: z.enum(['token', 'local-token', 'proxy']),
});

/** Who the caller is: what the console shows after sign-in, and which controls it offers. */
export const meRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/api/me', { schema: { tags: ['process'], summary: 'The caller: name, role, and how it authenticated', response: { 200: meAnswer } }, config: { role: 'viewer' } }, async (request) => {
    const { name, role, via } = principalOf(request);
    return { name, role, via };
  });
};
