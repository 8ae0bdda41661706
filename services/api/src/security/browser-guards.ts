import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WalauditConfig } from '@walaudit/core';

const LOCAL_NAMES = ['localhost', '127.0.0.1', '[::1]'];

function refuse(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).send({ error: { code, message } });
}

/** `host:port` split; the port is undefined when the header has none. */
function splitHost(host: string): { name: string; port: number | undefined } {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.trim().toLowerCase());
  if (!match) return { name: '', port: undefined };
  return { name: match[1]!, port: match[2] === undefined ? undefined : Number(match[2]) };
}

export interface BrowserGuardOptions {
  http: WalauditConfig['http'];
  /** The port actually listened on (http.port may be 0). */
  port: () => number;
  tls: boolean;
}

/**
 * Defences against a web page in the user's browser: DNS rebinding (the Host header must name this
 * server), cross-site requests (Origin and Sec-Fetch-Site must say same origin, unless the origin
 * is in http.allowedOrigins, which also get CORS headers). `/health` is exempt: probes send
 * whatever Host they like, and it reveals nothing.
 */
export function installBrowserGuards(app: FastifyInstance, options: BrowserGuardOptions): void {
  const { http } = options;
  const names = new Set([...LOCAL_NAMES, ...http.allowedHosts.map((name) => name.toLowerCase())]);
  if (!['0.0.0.0', '::', ''].includes(http.host)) names.add(http.host.includes(':') && !http.host.startsWith('[') ? `[${http.host}]` : http.host.toLowerCase());
  const origins = new Set(http.allowedOrigins.map((origin) => origin.replace(/\/$/, '').toLowerCase()));
  const scheme = options.tls ? 'https' : 'http';

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.url === '/health') return;
    const host = request.headers.host ?? '';
    const { name, port } = splitHost(host);
    const defaultPort = options.tls ? 443 : 80;
    if (!names.has(name) || (port ?? defaultPort) !== options.port()) {
      return refuse(reply, 421, 'API_HOST_REFUSED', `Host "${host}" is not this server's name: add the name to http.allowedHosts (DNS rebinding is refused)`);
    }
    const origin = request.headers.origin?.replace(/\/$/, '').toLowerCase();
    const allowed = origin !== undefined && origins.has(origin);
    if (allowed) {
      reply.header('access-control-allow-origin', request.headers.origin!);
      reply.header('vary', 'Origin');
      if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
        return reply
          .code(204)
          .header('access-control-allow-methods', 'GET, POST, DELETE')
          .header('access-control-allow-headers', 'authorization, content-type')
          .header('access-control-max-age', '600')
          .send();
      }
      return;
    }
    if (origin !== undefined && origin !== `${scheme}://${host.toLowerCase()}`) {
      return refuse(reply, 403, 'API_CROSS_ORIGIN', `requests from the web page ${request.headers.origin} are refused: add it to http.allowedOrigins to allow it`);
    }
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      return refuse(reply, 403, 'API_CROSS_ORIGIN', `a ${site} request from a browser is refused; call the API from the same origin, or list the page's origin in http.allowedOrigins`);
    }
  });
}
