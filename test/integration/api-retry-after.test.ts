import { afterAll, describe, expect, it } from 'vitest';
import { createPipelineMetrics, newApiToken, startApiServer, type ApiServer } from '@walaudit/api';
import { parseConfig } from '@walaudit/core';
import { callApi } from '../support/api-client.js';

/** Every 429 says when to come back: the request limiter and the failed-authentication limiter. */
describe('HTTP API: Retry-After on 429', () => {
  const servers: ApiServer[] = [];
  const { token } = newApiToken();

  const serve = async (http: Record<string, unknown>) => {
    const api = await startApiServer({ http: parseConfig({ http: { port: 0, ...http } }).http, localToken: { token, file: '(test)' }, status: async () => ({ state: 'running' }) as never, registry: createPipelineMetrics().registry });
    servers.push(api);
    return api.port;
  };

  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  it('the request limiter (http.rateLimitPerMinute) answers 429 with the seconds left of its minute', async () => {
    const port = await serve({ rateLimitPerMinute: 3 });
    for (let i = 0; i < 3; i++) expect((await callApi(port, 'GET', '/api/status', { token })).status).toBe(200);
    const limited = await callApi(port, 'GET', '/api/status', { token });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ code: 'API_RATE_LIMITED' });
    const seconds = Number(limited.headers['retry-after']);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(60);
  });

  it('the failed-authentication limiter (http.authFailuresPerMinute) answers 429 with the seconds until the address may try again', async () => {
    const port = await serve({ authFailuresPerMinute: 2, rateLimitPerMinute: 0 });
    for (let i = 0; i < 2; i++) expect((await callApi(port, 'GET', '/api/status', { token: 'wat_guess' })).status).toBe(401);
    // Some of the minute passes: the header counts down, it is not a fixed 60.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const attempt of [{ token: 'wat_guess' }, { token }]) {
      const limited = await callApi(port, 'GET', '/api/status', attempt);
      expect(limited.status).toBe(429);
      expect(limited.body.error!.message).toContain('http.authFailuresPerMinute');
      const seconds = Number(limited.headers['retry-after']);
      expect(seconds).toBeGreaterThanOrEqual(57);
      expect(seconds).toBeLessThanOrEqual(59);
    }
  });
});
