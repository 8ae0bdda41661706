import type { FastifyInstance, FastifyRequest } from 'fastify';
import { roleAllows, WalauditError, type WalauditConfig } from '@walaudit/core';
import type { ApiMetrics } from '../api-metrics.js';
import { bearerToken } from './api-token.js';
import { AuthFailures } from './auth-failures.js';
import type { Principal, RouteRole } from './principal.js';
import type { ProxyIdentity } from './proxy-identity.js';
import type { TokenVerifier } from './token-verifier.js';

export interface AuthOptions {
  http: WalauditConfig['http'];
  verifier: TokenVerifier;
  proxy: ProxyIdentity;
  metrics: ApiMetrics;
  /** Where the local manager token is, for the 401 message; unset when none was written. */
  localTokenFile?: string;
}

const HOW = 'send "Authorization: Bearer <token>"';

/** The role a request needs: the route's declared one; the docs and metrics as configured. */
function neededRole(request: FastifyRequest, http: WalauditConfig['http']): RouteRole {
  const declared = request.routeOptions.config?.role;
  if (request.url.startsWith('/api/docs') || request.url.startsWith('/api/openapi.json')) return http.docsPublic ? 'public' : 'viewer';
  return declared ?? 'viewer';
}

/**
 * One hook decides who may call what: each route declares the role it needs (`config.role`), and
 * every request without it is refused here, loopback included.
 */
export function installAuthHook(app: FastifyInstance, options: AuthOptions): void {
  const failures = new AuthFailures(options.http.authFailuresPerMinute);
  const { authFailures } = options.metrics;
  const where = options.localTokenFile ? `; on this host, walaudit start wrote a manager token to ${options.localTokenFile}` : '';

  app.addHook('onRequest', async (request, reply) => {
    const needed = neededRole(request, options.http);
    if (needed === 'public') return;
    const address = request.socket.remoteAddress ?? 'unknown';
    if (failures.blocked(address)) {
      authFailures.inc({ reason: 'rate-limited' });
      reply.header('retry-after', String(failures.retryAfterSeconds(address)));
      throw new WalauditError('API_RATE_LIMITED', `too many failed authentications from ${address} (http.authFailuresPerMinute: ${options.http.authFailuresPerMinute}); wait a minute and check the token`);
    }
    let principal: Principal | null = options.proxy(request.socket.remoteAddress, request.headers);
    if (!principal) {
      const token = bearerToken(request.headers.authorization);
      if (!token) {
        authFailures.inc({ reason: 'missing' });
        throw new WalauditError('API_UNAUTHORIZED', `${request.method} ${request.url.split('?')[0]} needs a ${needed} token: ${HOW}${where}`);
      }
      principal = await options.verifier.verify(token);
      if (!principal) {
        failures.failed(address);
        authFailures.inc({ reason: 'invalid' });
        throw new WalauditError('API_UNAUTHORIZED', `the bearer token is unknown or revoked: ask a manager for a token (POST /api/tokens)${where}`);
      }
    }
    if (!roleAllows(principal.role, needed)) {
      throw new WalauditError('API_FORBIDDEN', `${request.method} ${request.url.split('?')[0]} needs the ${needed} role; ${principal.name} is a ${principal.role}`);
    }
    request.principal = principal;
  });
}

/** The authenticated principal of a route that is not public. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new WalauditError('INTERNAL', 'a route that changes something was declared public');
  return request.principal;
}
