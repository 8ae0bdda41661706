import { parseConfig } from '@walaudit/core';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildApiApp } from '../api-app.js';

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>;
}

/** What /api/openapi.json says of each route, from the app as it is built (nothing listens). */
async function openApiPaths(): Promise<Record<string, Record<string, Operation>>> {
  const { http } = parseConfig({ http: { port: 0 } });
  const app = await buildApiApp({ http, status: async () => ({}) as never, registry: new Registry() }, () => 0);
  try {
    await app.ready();
    return (app.swagger() as { paths: Record<string, Record<string, Operation>> }).paths;
  } finally {
    await app.close();
  }
}

describe('the OpenAPI document', () => {
  it('describes a success answer of every route with a schema', async () => {
    const paths = await openApiPaths();
    const operations = Object.entries(paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation })));
    expect(operations.length).toBeGreaterThan(25);
    const undescribed = operations
      .filter(({ operation }) => !Object.entries(operation.responses ?? {}).some(([status, answer]) => /^2\d\d$/.test(status) && Object.values(answer.content ?? {}).some((media) => media.schema && Object.keys(media.schema).length > 0)))
      .map(({ route }) => route);
    expect(undescribed).toEqual([]);
  });
});
