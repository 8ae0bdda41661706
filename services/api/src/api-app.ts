import { readFileSync } from 'node:fs';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { WalauditError } from '@walaudit/core';
import type { ApiServerDeps } from './api-deps.js';
import { installErrorHandlers } from './api-errors.js';
import { createApiMetrics } from './api-metrics.js';
import { hashApiToken } from './auth/api-token.js';
import { installAuthHook } from './auth/auth-hook.js';
import { createProxyIdentity } from './auth/proxy-identity.js';
import { createTokenVerifier } from './auth/token-verifier.js';
import { consoleDistDir } from './console/console-dir.js';
import { registerConsole } from './console/console-routes.js';
import { installBrowserGuards } from './security/browser-guards.js';
import { registerDocs } from './routes/docs-routes.js';
import { alertsRoutes } from './routes/alerts-routes.js';
import { cascadeRoutes } from './routes/cascade-routes.js';
import { entriesRoutes } from './routes/entries-routes.js';
import { eventsRoutes } from './routes/events-routes.js';
import { exportsRoutes } from './routes/exports-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { historyRoutes } from './routes/history-routes.js';
import { meRoutes } from './routes/me-routes.js';
import { restoresRoutes } from './routes/restores-routes.js';
import { rulesRoutes } from './routes/rules-routes.js';
import { statsRoutes } from './routes/stats-routes.js';
import { statusRoutes } from './routes/status-routes.js';
import { tokensRoutes } from './routes/tokens-routes.js';

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new WalauditError('CONFIG_INVALID', `cannot read the TLS ${what} ${path} (http.tls${what === 'certificate' ? 'Cert' : 'Key'}File): ${(error as Error).message}`, { cause: error });
  }
}

/** Bigints (LSNs, xids) as decimal text; JSON has no 64-bit integers. */
const serialize = (payload: unknown) => JSON.stringify(payload, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));

/**
 * The API as a Fastify instance, not yet listening: guards (Host, Origin), then authentication,
 * then one plugin per resource. `port` is the port it will be reached on, for the Host check.
 */
export async function buildApiApp(deps: ApiServerDeps, port: () => number): Promise<FastifyInstance> {
  const { http } = deps;
  if (Boolean(http.tlsCertFile) !== Boolean(http.tlsKeyFile)) throw new WalauditError('CONFIG_INVALID', 'TLS needs both http.tlsCertFile and http.tlsKeyFile');
  const https = http.tlsCertFile && http.tlsKeyFile ? { cert: readPem(http.tlsCertFile, 'certificate'), key: readPem(http.tlsKeyFile, 'key') } : null;
  // Fastify's logger stays off: walaudit logs what matters itself, and never a header or a token.
  const app = (https ? Fastify({ https, bodyLimit: http.bodyLimitBytes }) : Fastify({ bodyLimit: http.bodyLimitBytes })) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setReplySerializer(serialize);
  // JSON only: a web page can send text/plain without a CORS preflight.
  app.removeContentTypeParser('text/plain');
  installErrorHandlers(app, (message) => deps.log?.warn(message));
  await app.register(helmet, { hsts: Boolean(https) });
  if (http.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: http.rateLimitPerMinute,
      timeWindow: 60_000,
      allowList: (request) => request.url === '/health',
      errorResponseBuilder: (_request, context) => Object.assign(new WalauditError('API_RATE_LIMITED', `more than ${context.max} requests a minute from this address (http.rateLimitPerMinute); retry in ${context.after}`), { statusCode: 429 }),
    });
  }
  installBrowserGuards(app, { http, port, tls: Boolean(https) });
  const verifier = createTokenVerifier({ store: deps.tokens, localTokenHash: deps.localToken ? hashApiToken(deps.localToken.token) : undefined });
  const metrics = createApiMetrics(deps.registry);
  installAuthHook(app, { http, verifier, proxy: createProxyIdentity(http), metrics, localTokenFile: deps.localToken?.file });
  await registerDocs(app, '1');
  await app.register(healthRoutes, { deps });
  await app.register(statusRoutes, { deps });
  await app.register(meRoutes);
  await app.register(entriesRoutes, { deps });
  await app.register(historyRoutes, { deps });
  await app.register(statsRoutes, { deps });
  await app.register(exportsRoutes, { deps });
  await app.register(alertsRoutes, { deps });
  await app.register(cascadeRoutes, { deps });
  await app.register(restoresRoutes, { deps });
  await app.register(tokensRoutes, { deps, verifier });
  await app.register(rulesRoutes, { deps });
  await app.register(eventsRoutes, { deps, verifier, metrics });
  await registerConsole(app, deps.consoleDir ?? consoleDistDir());
  return app;
}
