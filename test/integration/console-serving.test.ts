import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPipelineMetrics, newApiToken, startApiServer, type ApiServer } from '@walaudit/api';
import { parseConfig } from '@walaudit/core';
import { callApi } from '../support/api-client.js';
import { tempDir } from '../support/temp-dir.js';

/** How the API process serves the console's files: public assets, the page for client paths, a clear answer when not built. */
describe('the console served by the API', () => {
  const servers: ApiServer[] = [];
  const { token } = newApiToken();
  const serve = async (consoleDir: string) => {
    const http = parseConfig({ http: { port: 0 } }).http;
    const api = await startApiServer({ http, consoleDir, localToken: { token, file: '(test)' }, status: async () => ({ state: 'running' }) as never, registry: createPipelineMetrics().registry });
    servers.push(api);
    return api.port;
  };

  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  it('answers / with a sentence, not a stack trace, where the console was not built', async () => {
    const port = await serve(tempDir('console-missing'));
    const page = await callApi(port, 'GET', '/');
    expect(page.status).toBe(503);
    expect(page.headers['content-type']).toContain('text/plain');
    expect(page.text).toContain('npm run build');
    expect((await callApi(port, 'GET', '/api/status', { token })).status).toBe(200);
  });

  it('serves the page and assets without a token, the page for client paths, and JSON 404s under /api', async () => {
    const dir = tempDir('console-built');
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>walaudit console</title><script type="module" src="/assets/app-1.js"></script>');
    writeFileSync(join(dir, 'assets', 'app-1.js'), 'export {};');
    const port = await serve(dir);
    for (const path of ['/', '/log?table=orders', '/entries/00000000019C3E28-0']) {
      const page = await callApi(port, 'GET', path);
      expect(page.status, path).toBe(200);
      expect(page.text).toContain('walaudit console');
      expect(page.headers['cache-control']).toBe('no-cache');
    }
    const asset = await callApi(port, 'GET', '/assets/app-1.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toContain('javascript');
    expect((await callApi(port, 'GET', '/assets/missing.js')).status).toBe(404);
    expect((await callApi(port, 'GET', '/assets/../index.html')).status).not.toBe(500);
    const unknown = await callApi(port, 'GET', '/api/nothing', { token });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error?.code).toBe('API_NOT_FOUND');
    expect((await callApi(port, 'GET', '/api/status')).status).toBe(401);
    expect((await callApi(port, 'GET', '/api/me', { token })).body).toEqual({ name: 'local', role: 'manager', via: 'local-token' });
  });
});
