import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CHANGE_OPS, describeError, isWalauditError, verifyAuditLog, WalauditError, type AuditStore, type ChangeOp, type LogQuery, type PipelineStatus } from '@walaudit/core';
import type { Registry } from 'prom-client';
import { parseAlertQuery, readAckRequest, type AlertsApi } from './alerts-routes.js';

export interface ApiServerDeps {
  host: string;
  port: number;
  status: () => Promise<PipelineStatus>;
  /** Absent in a process that holds no store (a distributed reader): /entries and /verify say so. */
  store?: AuditStore;
  registry: Registry;
  /** The alerter, when alerts are enabled: `GET /alerts`, `POST /alerts/ack`. */
  alerts?: AlertsApi;
  /**
   * Routes of the services started with the pipeline (cascade links, restore jobs), by path. They
   * answer any method; a POST body is parsed as JSON.
   */
  routes?: Readonly<Record<string, ApiRoute>>;
}

export interface ApiRequest {
  method: string;
  url: URL;
  body: unknown;
}

export type ApiRoute = (request: ApiRequest) => Promise<{ status: number; body: unknown }>;

export interface ApiServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The read side of a running pipeline. The embedded store can be opened by one process only, so
 * `walaudit log`, `verify` and `status` come here instead of opening the data directory.
 */
export async function startApiServer(deps: ApiServerDeps): Promise<ApiServer> {
  const server = createServer((request, response) => {
    route(deps, request, response).catch((error: unknown) => sendError(response, error));
  });
  await listen(server, deps.host, deps.port);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : deps.port;
  return {
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function route(deps: ApiServerDeps, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname === '/alerts/ack') {
    if (request.method !== 'POST') return sendJson(response, 405, { error: 'POST /alerts/ack with {"ids": [...], "by": "name"}' });
    if (!deps.alerts) throw new WalauditError('CONFIG_INVALID', 'alerts are disabled in this walaudit (alerts.enabled: false)');
    return sendJson(response, 200, await deps.alerts.acknowledge(await readAckRequest(request)));
  }
  const extra = deps.routes?.[url.pathname];
  if (extra) {
    const answer = await extra({ method: request.method ?? 'GET', url, body: await readJsonBody(request) });
    return sendJson(response, answer.status, answer.body);
  }
  if (request.method !== 'GET') return sendJson(response, 405, { error: 'only GET is served' });
  switch (url.pathname) {
    case '/health': {
      const status = await deps.status();
      // A lost slot is unhealthy whatever the state: changes are going unaudited.
      const lost = status.slotLost ?? null;
      const healthy = !lost && (status.state === 'running' || status.state === 'starting');
      return sendJson(response, healthy ? 200 : 503, { status: healthy ? 'ok' : lost ? 'slot-lost' : status.state, lastError: status.lastError, ...(lost ? { slotLost: lost } : {}) });
    }
    case '/metrics':
      response.writeHead(200, { 'content-type': deps.registry.contentType });
      response.end(await deps.registry.metrics());
      return;
    case '/status':
      return sendJson(response, 200, await deps.status());
    case '/entries':
    case '/verify':
      if (!deps.store) {
        return sendJson(response, 404, { error: { code: 'NO_STORE', message: 'this process runs only the reader (walaudit start --services reader) and holds no store: ask a writer, or use --clickhouse-url' } });
      }
      if (url.pathname === '/verify') return sendJson(response, 200, await verifyAuditLog(deps.store));
      return sendJson(response, 200, { entries: await deps.store.queryLog(parseLogQuery(url.searchParams)) });
    case '/alerts':
      if (!deps.alerts) throw new WalauditError('CONFIG_INVALID', 'alerts are disabled in this walaudit (alerts.enabled: false)');
      return sendJson(response, 200, { alerts: await deps.alerts.list(parseAlertQuery(url.searchParams)) });
    default:
      return sendJson(response, 404, { error: `no route ${url.pathname}; try /health, /metrics, /status, /entries, /verify, /alerts` });
  }
}

export function parseLogQuery(params: URLSearchParams): LogQuery {
  const limit = Number(params.get('limit') ?? 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new WalauditError('CONFIG_INVALID', '"limit" must be an integer from 1 to 100000');
  const op = params.get('op') ?? undefined;
  if (op !== undefined && !CHANGE_OPS.includes(op as ChangeOp)) throw new WalauditError('CONFIG_INVALID', `"op" must be one of ${CHANGE_OPS.join(', ')}`);
  const since = params.get('since') ?? undefined;
  if (since !== undefined && Number.isNaN(Date.parse(since))) throw new WalauditError('CONFIG_INVALID', `"since" is not a time: ${since}`);
  const xid = params.get('xid');
  return { limit, op: op as ChangeOp | undefined, since: since ? new Date(since).toISOString() : undefined, table: params.get('table') ?? undefined, xid: xid ? Number(xid) : undefined };
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new WalauditError('CONFIG_INVALID', 'the request body is not JSON');
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)));
}

function sendError(response: ServerResponse, error: unknown): void {
  const status = isWalauditError(error) && error.code === 'CONFIG_INVALID' ? 400 : isWalauditError(error) && error.code === 'ALERT_NOT_FOUND' ? 404 : 500;
  const code = isWalauditError(error) ? error.code : 'INTERNAL';
  if (!response.headersSent) sendJson(response, status, { error: { code, message: describeError(error) } });
  else response.end();
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new WalauditError('CONFIG_INVALID', `HTTP port ${port} on ${host} is in use (another walaudit start?): set http.port or WALAUDIT_HTTP_PORT`, { cause: error }));
      } else reject(error);
    });
    server.listen(port, host, () => resolve());
  });
}
