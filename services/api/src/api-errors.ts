import type { FastifyError, FastifyInstance } from 'fastify';
import { describeError, isWalauditError, WalauditError, type WalauditErrorCode } from '@walaudit/core';

/** The HTTP status each code answers with; anything else is a 500. */
const STATUS: Partial<Record<WalauditErrorCode, number>> = {
  CONFIG_INVALID: 400,
  API_BAD_REQUEST: 400,
  API_UNAUTHORIZED: 401,
  API_FORBIDDEN: 403,
  API_NOT_FOUND: 404,
  ALERT_NOT_FOUND: 404,
  STORE_NOT_FOUND: 404,
  ENTRY_NOT_FOUND: 404,
  TRANSACTION_NOT_FOUND: 404,
  API_TOO_LARGE: 413,
  REPORT_TOO_LARGE: 422,
  API_UNSUPPORTED_MEDIA_TYPE: 415,
  API_RATE_LIMITED: 429,
  API_BUSY: 503,
  RESTORE_CONFLICT: 409,
};

/** Fastify's own errors (parsing, limits), turned into walaudit's with a message a DBA can act on. */
function fromFastify(error: FastifyError): WalauditError | null {
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    const details = error.validation.map((issue) => `${issue.instancePath ? issue.instancePath.slice(1).replaceAll('/', '.') : where}: ${issue.message ?? 'invalid'}`).join('; ');
    return new WalauditError('API_BAD_REQUEST', `the ${where} is not valid: ${details}`);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new WalauditError('API_UNSUPPORTED_MEDIA_TYPE', 'only JSON bodies are accepted: send Content-Type: application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new WalauditError('API_TOO_LARGE', 'the request body is larger than http.bodyLimitBytes allows');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new WalauditError('API_BAD_REQUEST', `the request body is not valid JSON: ${error.message}`);
    default:
      if (error.statusCode === 429) return new WalauditError('API_RATE_LIMITED', error.message);
      if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return new WalauditError('API_BAD_REQUEST', error.message);
      return null;
  }
}

export function statusOf(error: WalauditError): number {
  return STATUS[error.code] ?? 500;
}

/** Every error, 404s included, as `{error: {code, message}}`. */
export function installErrorHandlers(app: FastifyInstance, log: (message: string) => void): void {
  app.setErrorHandler((raw: FastifyError, request, reply) => {
    const error = isWalauditError(raw) ? raw : (fromFastify(raw) ?? new WalauditError('INTERNAL', describeError(raw), { cause: raw }));
    const status = statusOf(error);
    // Every 429 and 503 says when to come back; the limiters set their own, this is the floor.
    if ((status === 429 || status === 503) && !reply.hasHeader('retry-after')) reply.header('retry-after', status === 429 ? '60' : '5');
    if (status >= 500 && status !== 503) log(`${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]} failed: ${describeError(raw)}`);
    return reply.code(status).send({ error: { code: error.code, message: error.message } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'API_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}; the routes are listed in /api/openapi.json (browse them at /api/docs)` } }),
  );
}
