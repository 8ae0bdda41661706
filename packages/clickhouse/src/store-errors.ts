import { WalauditError } from '@walaudit/core';

/**
 * The one place ClickHouse failures become WalauditErrors, for the HTTP client and chDB alike.
 * Both surface server errors as ClickHouseError-shaped values ({ code: '81', type: 'UNKNOWN_DATABASE' }),
 * but from two copies of the class (@clickhouse/client vendors its own), so they are matched by
 * shape, not instanceof.
 */

/** Socket-level codes: the server was not reached or the connection dropped; retrying can help. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Messages of client-side failures that carry no code (the client's own request timeout, fetch). */
const NETWORK_MESSAGE = /fetch failed|socket hang up|timeout error|timed out|ECONNREFUSED|ECONNRESET/i;

/** AUTHENTICATION_FAILED, REQUIRED_PASSWORD: retrying with the same credentials cannot help. */
const AUTH_CODES = new Set(['516', '194']);

/**
 * Server errors that pass on their own: TIMEOUT_EXCEEDED, TOO_MANY_SIMULTANEOUS_QUERIES,
 * SOCKET_TIMEOUT, NETWORK_ERROR, MEMORY_LIMIT_EXCEEDED, TABLE_IS_READ_ONLY (replica lost Keeper),
 * TOO_MANY_PARTS (merges behind), ALL_CONNECTION_TRIES_FAILED. Retrying keeps the pipeline alive.
 */
const TRANSIENT_SERVER_CODES = new Set(['159', '202', '209', '210', '241', '242', '252', '279']);

interface ServerError {
  code: string;
  type?: string;
  message: string;
}

/** Maps any failure of a store call to a WalauditError; `target` names the store in messages. */
export function toStoreError(error: unknown, target: string): WalauditError {
  if (error instanceof WalauditError) return error;
  const server = serverError(error);
  if (server) {
    const what = `${server.code}${server.type ? ` ${server.type}` : ''}`;
    if (AUTH_CODES.has(server.code)) {
      return new WalauditError(
        'STORE_QUERY_FAILED',
        `${target} rejected the credentials (ClickHouse ${what}): check store.username and store.password`,
        { cause: error },
      );
    }
    return new WalauditError('STORE_QUERY_FAILED', `${target} failed a query (ClickHouse ${what}): ${server.message.trim()}`, {
      retriable: TRANSIENT_SERVER_CODES.has(server.code),
      cause: error,
    });
  }
  const network = networkFailure(error);
  if (network) {
    return new WalauditError(
      'STORE_UNREACHABLE',
      `${target} is unreachable (${network}): check that the server is running and store.url is right; walaudit retries`,
      { retriable: true, cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new WalauditError('STORE_QUERY_FAILED', `${target} failed: ${message}`, { cause: error });
}

/** Runs one store call, mapping whatever it throws. */
export async function withStoreErrors<T>(target: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toStoreError(error, target);
  }
}

function serverError(error: unknown): ServerError | null {
  if (!(error instanceof Error)) return null;
  const { code, type, clickhouseCode } = error as { code?: unknown; type?: unknown; clickhouseCode?: unknown };
  if (typeof code === 'string' && /^\d+$/.test(code)) return { code, type: typeof type === 'string' ? type : undefined, message: error.message };
  // chDB's own errors (its raw insert's ChdbInsertError): the number in clickhouseCode, the name
  // only in the message, "Code: 252. DB::Exception: ... (TOO_MANY_PARTS) (version ...)"; the last
  // such name, since the text before it may quote the inserted data.
  if (typeof clickhouseCode === 'number' && Number.isInteger(clickhouseCode)) {
    const type = [...error.message.matchAll(/\(([A-Z][A-Z0-9_]+)\)/g)].at(-1)?.[1];
    return { code: String(clickhouseCode), type, message: error.message };
  }
  return null;
}

/** A description of the network failure anywhere in the cause chain, or null. */
function networkFailure(error: unknown): string | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return current.message || code;
    if (NETWORK_MESSAGE.test(current.message)) return current.message;
    current = current.cause;
  }
  return null;
}
