import { WalauditError, describeError } from '@walaudit/core';
import { readableIdent } from './sql-names.js';
import { slotLostError } from './slot-health.js';

/**
 * The one place where node-postgres and socket errors become WalauditErrors. Everything that talks
 * to Postgres passes its failures through `toWalauditError`, so a DBA sees the same code and the
 * same advice whichever command hit the problem.
 */

/** What the caller was doing, to name it in the message. A plain string is taken as the URL. */
export interface PgErrorContext {
  /** Connection URL; only `connectionLabel(url)` (no password) appears in messages. */
  url?: string;
  /** What was being attempted, e.g. `running setup`. */
  action?: string;
  /** Role to name in `ALTER ROLE ... REPLICATION`; default: the URL's user. */
  role?: string;
}

/** Socket-level failures: the server is not there (yet). Retrying can help. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE']);
/**
 * SQLSTATEs meaning the server is shutting down or starting up, or closed an idle session
 * (idle_session_timeout, 57P05): also worth a retry.
 */
const TRANSIENT_SERVER_STATES = new Set(['57P01', '57P02', '57P03', '57P05', '08000', '08003', '08006', '08001', '08004']);
/** Serialization failure and deadlock: the statement can simply be run again. */
const RETRY_STATES = new Set(['40001', '40P01']);

/** `host:port/database` of a Postgres URL, never its password. */
export function connectionLabel(url: string): string {
  try {
    const parsed = new URL(url);
    const socketHost = parsed.searchParams.get('host');
    const host = parsed.hostname || socketHost || 'localhost';
    const port = parsed.port || '5432';
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username) || 'postgres';
    return `${host}:${port}/${database}`;
  } catch {
    // Not a URL (a keyword/value string): show nothing rather than risk echoing a password.
    return 'the configured Postgres';
  }
}

export function toWalauditError(error: unknown, context: string | PgErrorContext = {}): WalauditError {
  if (error instanceof WalauditError) return error;
  const ctx: PgErrorContext = typeof context === 'string' ? { url: context } : context;
  const where = ctx.url ? connectionLabel(ctx.url) : 'Postgres';
  const during = ctx.action ? ` while ${ctx.action}` : '';
  const fields = errorFields(error);
  const message = fields.message;

  if (fields.errno && UNREACHABLE_CODES.has(fields.errno)) {
    return new WalauditError('PG_UNREACHABLE', `cannot reach Postgres at ${fields.address ?? where}${during} (${fields.errno}): check the URL and that Postgres is running`, { cause: error, retriable: true });
  }
  if (/Connection terminated|terminating connection/i.test(message) && !fields.sqlState) {
    return new WalauditError('PG_UNREACHABLE', `the connection to ${where} was lost${during}: ${message}`, { cause: error, retriable: true });
  }
  const state = fields.sqlState;
  if (!state) {
    return new WalauditError('PG_QUERY_FAILED', `Postgres at ${where}${during}: ${message}`, { cause: error });
  }
  if (state.startsWith('28')) {
    return new WalauditError('PG_AUTH_FAILED', `Postgres at ${where} rejected the login (${state}): ${message}; check the user and password in the URL and pg_hba.conf`, { cause: error });
  }
  if (TRANSIENT_SERVER_STATES.has(state)) {
    return new WalauditError('PG_UNREACHABLE', `Postgres at ${where} is not available${during} (${state}): ${message}`, { cause: error, retriable: true });
  }
  if (state === '55000' && /wal_level/i.test(message)) {
    return new WalauditError('PG_WAL_LEVEL', `Postgres at ${where} does not have logical decoding enabled (${message}): set wal_level = logical in postgresql.conf (ALTER SYSTEM SET wal_level = logical) and restart Postgres`, { cause: error });
  }
  if (state === '42501' && isReplicationPermission(fields)) {
    const role = ctx.role ?? userOf(ctx.url) ?? '<role>';
    return new WalauditError('PG_NO_REPLICATION', `the role ${role} may not use replication slots at ${where}: run \`ALTER ROLE ${readableIdent(role)} REPLICATION\` as a superuser (${message})`, { cause: error });
  }
  if (state === '42501') {
    return new WalauditError('PG_PRIVILEGE', `permission denied at ${where}${during}: ${message}; connect as the tables' owner or a superuser`, { cause: error });
  }
  if (state === '55000' && /replication slot/i.test(message) && /cannot read from logical|invalidated|can no longer/i.test(`${message} ${fields.detail ?? ''}`)) {
    // A slot invalidated while streaming (the reader's lookup found it still valid).
    const slot = /replication slot "([^"]+)"/i.exec(message)?.[1] ?? '(unknown)';
    return slotLostError(slot, null, error);
  }
  if (state === '55006') {
    const pid = /active for PID (\d+)/i.exec(message)?.[1];
    return new WalauditError('PG_SLOT_IN_USE', `${message} at ${where}: another walaudit (or another consumer) holds the slot${pid ? ` (backend PID ${pid})` : ''}; stop it, or use a different slot name`, { cause: error, retriable: true });
  }
  if (state === '42704' && /replication slot/i.test(message)) {
    return new WalauditError('PG_SLOT_MISSING', `${message} at ${where}: run \`walaudit setup\` to create it`, { cause: error });
  }
  if (state === '42704' && /publication/i.test(message)) {
    return new WalauditError('PG_PUBLICATION_MISSING', `${message} at ${where}: run \`walaudit setup\` to create it`, { cause: error });
  }
  if (state === '42P01') {
    return new WalauditError('PG_TABLE_NOT_FOUND', `${message} at ${where}${during}`, { cause: error });
  }
  if (state === '3D000') {
    return new WalauditError('PG_QUERY_FAILED', `${message} at ${where}: check the database name in the URL`, { cause: error });
  }
  return new WalauditError('PG_QUERY_FAILED', `Postgres at ${where}${during} (${state}): ${message}`, { cause: error, retriable: RETRY_STATES.has(state) });
}

interface ErrorFields {
  message: string;
  sqlState?: string;
  errno?: string;
  address?: string;
  detail?: string;
}

/** node-postgres puts the SQLSTATE in `code`; Node puts the errno name there too, so tell them apart. */
function errorFields(error: unknown): ErrorFields {
  const record = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const code = typeof record.code === 'string' ? record.code : undefined;
  const nested = Array.isArray(record.errors) ? (record.errors as Record<string, unknown>[]) : [];
  // Node's happy-eyeballs connect can fail with an AggregateError whose members carry the errno.
  const codeIsErrno = code !== undefined && /^E[A-Z_]+$/.test(code);
  const errno = codeIsErrno ? code : nested.map((e) => e?.code).find((c): c is string => typeof c === 'string');
  const address = typeof record.address === 'string' ? `${record.address}${typeof record.port === 'number' ? `:${record.port}` : ''}` : undefined;
  return {
    message: describeError(error),
    sqlState: code && !codeIsErrno && /^[0-9A-Z]{5}$/.test(code) ? code : undefined,
    errno,
    address,
    detail: typeof record.detail === 'string' ? record.detail : undefined,
  };
}

/** Postgres 15 says "must be superuser or replication role"; 16+ says "permission denied to use replication slots". */
function isReplicationPermission(fields: ErrorFields): boolean {
  const text = `${fields.message} ${fields.detail ?? ''}`;
  return /superuser or replication role|replication slots|REPLICATION attribute/i.test(text);
}

function userOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).username) || undefined;
  } catch {
    return undefined;
  }
}
