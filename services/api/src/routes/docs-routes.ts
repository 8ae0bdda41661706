import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { RouteRole } from '../auth/principal.js';

/**
 * The OpenAPI document, from the same zod schemas that validate each route, each operation naming
 * the role it needs (`x-walaudit-role`, and in its description); the UI's assets are served from
 * the package, nothing from a CDN. Registered before the routes, so it sees them all.
 */
export async function registerDocs(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: { title: 'walaudit API', version, description: 'The audit trail of a Postgres database. Every route but /health (and /metrics when http.metricsPublic) needs a bearer token or a trusted proxy.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token (POST /api/tokens), or the local token walaudit start writes in its data directory' } } },
    },
    transform: (input) => {
      const { schema, url } = jsonSchemaTransform(input);
      const role: RouteRole = (input.route.config as { role?: RouteRole } | undefined)?.role ?? 'viewer';
      const needs = role === 'public' ? 'Public: no token needed.' : `Role: ${role}.`;
      return { url, schema: { ...schema, description: [needs, (schema as { description?: string }).description].filter(Boolean).join(' '), 'x-walaudit-role': role, security: role === 'public' ? [] : [{ bearer: [] }] } as typeof schema };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
