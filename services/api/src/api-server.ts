import { WalauditError } from '@walaudit/core';
import type { ApiServerDeps } from './api-deps.js';
import { buildApiApp } from './api-app.js';
import { checkBindAddress } from './security/bind-policy.js';

export interface ApiServer {
  readonly port: number;
  /** `http://host:port` or `https://...`, for messages. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The HTTP API of a running pipeline. The embedded store can be opened by one process only, so
 * the read commands come here instead of opening the data directory.
 */
export async function startApiServer(deps: ApiServerDeps): Promise<ApiServer> {
  checkBindAddress(deps.http, (message) => deps.log?.warn(message));
  let port = deps.http.port;
  const app = await buildApiApp(deps, () => port);
  try {
    await app.listen({ host: deps.http.host, port: deps.http.port });
  } catch (error) {
    await app.close().catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new WalauditError('CONFIG_INVALID', `HTTP port ${deps.http.port} on ${deps.http.host} is in use (another walaudit start?): set http.port or WALAUDIT_HTTP_PORT`, { cause: error });
    }
    throw error;
  }
  const address = app.server.address();
  port = typeof address === 'object' && address ? address.port : deps.http.port;
  const scheme = deps.http.tlsCertFile ? 'https' : 'http';
  const host = deps.http.host.includes(':') ? `[${deps.http.host}]` : deps.http.host;
  return { port, url: `${scheme}://${host}:${port}`, close: () => app.close() };
}
