import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipelineMetrics, newApiToken, startApiServer, type ApiServer } from '@walaudit/api';
import { openClickHouseStores, type ClickHouseStores } from '@walaudit/clickhouse';
import { parseConfig } from '@walaudit/core';
import { callApi } from '../support/api-client.js';
import { runWalaudit } from '../support/walaudit-process.js';
import { tempDir } from '../support/temp-dir.js';

/** A trusted reverse proxy (oauth2-proxy and the like) in front of the API, on the real store. */
describe('HTTP API behind a proxy', () => {
  let stores: ClickHouseStores;
  const servers: ApiServer[] = [];

  const serve = async (trustedProxies: string[]) => {
    const http = parseConfig({ http: { port: 0, trustedProxies, managerGroups: ['dba'], viewerGroups: ['dev', 'support'] } }).http;
    const api = await startApiServer({ http, status: async () => ({ state: 'running' }) as never, store: stores.audit, queries: stores.queries, tokens: stores.tokens, registry: createPipelineMetrics().registry });
    servers.push(api);
    return api.port;
  };
  const as = (user: string, groups: string) => ({ 'x-forwarded-user': user, 'x-forwarded-groups': groups });

  beforeAll(async () => {
    stores = await openClickHouseStores({ dataDir: tempDir('api-proxy'), database: 'walaudit' });
  });

  afterAll(async () => {
    for (const server of servers) await server.close();
    await stores?.close();
  });

  it('maps a trusted proxy user groups to roles', async () => {
    const port = await serve(['127.0.0.0/8']);
    expect((await callApi(port, 'GET', '/api/entries', { headers: as('dana', 'staff, dev') })).status).toBe(200);
    const forbidden = await callApi(port, 'GET', '/api/tokens', { headers: as('dana', 'dev') });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error!.message).toContain('needs the manager role; dana is a viewer');
    expect((await callApi(port, 'GET', '/api/tokens', { headers: as('erin', 'dba') })).status).toBe(200);
    const noRole = await callApi(port, 'GET', '/api/entries', { headers: as('mallory', 'staff') });
    expect(noRole.status).toBe(403);
    expect(noRole.body.error!.message).toContain('http.managerGroups or http.viewerGroups');
  });

  it('serves CORS only to configured origins, and /metrics needs a token when not public', async () => {
    const { token } = newApiToken();
    const http = parseConfig({ http: { port: 0, allowedOrigins: ['https://console.example'], metricsPublic: false } }).http;
    const api = await startApiServer({ http, localToken: { token, file: '(test)' }, status: async () => ({ state: 'running' }) as never, registry: createPipelineMetrics().registry });
    servers.push(api);
    const preflight = await callApi(api.port, 'OPTIONS', '/api/status', { headers: { origin: 'https://console.example', 'access-control-request-method': 'GET' } });
    expect(preflight.status).toBe(204);
    const allowed = await callApi(api.port, 'GET', '/api/status', { token, headers: { origin: 'https://console.example', 'sec-fetch-site': 'cross-site' } });
    expect(allowed.status).toBe(200);
    expect((await callApi(api.port, 'GET', '/api/status', { token, headers: { origin: 'https://other.example' } })).status).toBe(403);
    expect((await callApi(api.port, 'GET', '/metrics')).status).toBe(401);
    expect((await callApi(api.port, 'GET', '/metrics', { token })).status).toBe(200);
  });

  it('ignores the same headers from an address that is not a trusted proxy', async () => {
    const port = await serve(['10.9.9.9/32']);
    const answer = await callApi(port, 'GET', '/api/tokens', { headers: as('erin', 'dba') });
    expect(answer.status).toBe(401);
    expect(answer.body.error!.code).toBe('API_UNAUTHORIZED');
  });

  it('refuses to start on a non-loopback address without TLS or a trusted proxy', async () => {
    const result = await runWalaudit(['start', '--data-dir', tempDir('api-bind'), '--http-port', '0'], { WALAUDIT_HTTP_HOST: '0.0.0.0', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('API_INSECURE_BIND');
    expect(result.stderr).toContain('http.tlsCertFile');
  });
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('HTTP API over TLS', () => {
  it.skipIf(!hasOpenssl())('serves HTTPS on any address with a certificate, and answers no plain HTTP', async () => {
    const dir = tempDir('api-tls');
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    const { token } = newApiToken();
    const http = parseConfig({ http: { host: '0.0.0.0', port: 0, tlsCertFile: cert, tlsKeyFile: key } }).http;
    const api = await startApiServer({ http, localToken: { token, file: '(test)' }, status: async () => ({ state: 'running' }) as never, registry: createPipelineMetrics().registry });
    try {
      expect(api.url).toMatch(/^https:/);
      const status = await new Promise<number>((resolve, reject) => {
        const request = httpsRequest({ host: '127.0.0.1', servername: 'localhost', port: api.port, path: '/api/status', ca: readFileSync(cert), headers: { host: `localhost:${api.port}`, authorization: `Bearer ${token}` } }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on('error', reject);
        request.end();
      });
      expect(status).toBe(200);
      await expect(callApi(api.port, 'GET', '/health')).rejects.toThrow();
    } finally {
      await api.close();
    }
  });
});
