/**
 * Every failure walaudit reports carries a stable `code` a DBA can search for, a message that says
 * what to do, and whether retrying can help. Backend error codes are mapped to these in one place
 * per adapter (see packages/pg/src/pg-errors.ts).
 */
export type WalauditErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'PG_UNREACHABLE'
  | 'PG_AUTH_FAILED'
  | 'PG_WAL_LEVEL'
  | 'PG_NO_REPLICATION'
  | 'PG_PRIVILEGE'
  | 'PG_SLOT_IN_USE'
  | 'PG_SLOT_MISSING'
  | 'PG_SLOT_LOST'
  | 'PG_PUBLICATION_MISSING'
  | 'PG_TABLE_NOT_FOUND'
  | 'PG_STREAM_ENDED'
  | 'PG_QUERY_FAILED'
  | 'STORE_UNREACHABLE'
  | 'STORE_QUERY_FAILED'
  | 'STORE_LOCKED'
  | 'STORE_OTHER_SOURCE'
  | 'STORE_NOT_FOUND'
  | 'MALFORMED_MESSAGE'
  | 'KAFKA_UNREACHABLE'
  | 'KAFKA_FAILED'
  | 'SERVER_NOT_RUNNING'
  | 'CHAIN_BROKEN'
  // Signed checkpoints and proofs
  | 'CHECKPOINT_INVALID'
  | 'CHECKPOINT_FORGED'
  | 'CHECKPOINT_UNKNOWN_KEY'
  | 'CHECKPOINT_MISMATCH'
  | 'PROOF_INVALID'
  | 'LOG_EMPTY'
  // Queries of the trail: what was asked for is not in it
  | 'ENTRY_NOT_FOUND'
  | 'TRANSACTION_NOT_FOUND'
  // Alerts
  | 'ALERT_NOT_FOUND'
  | 'NOTIFY_FAILED'
  | 'WINDOW_STORE_UNAVAILABLE'
  | 'RESTORE_CONFLICT'
  // HTTP API
  | 'API_UNAUTHORIZED'
  | 'API_FORBIDDEN'
  | 'API_BAD_REQUEST'
  | 'API_NOT_FOUND'
  | 'API_UNSUPPORTED_MEDIA_TYPE'
  | 'API_TOO_LARGE'
  | 'API_RATE_LIMITED'
  | 'API_INSECURE_BIND'
  | 'API_HOST_REFUSED'
  | 'API_CROSS_ORIGIN'
  | 'REPORT_TOO_LARGE'
  | 'EXPORT_INCOMPLETE'
  | 'API_BUSY'
  | 'INTERNAL';

export interface WalauditErrorOptions {
  retriable?: boolean;
  cause?: unknown;
}

export class WalauditError extends Error {
  readonly code: WalauditErrorCode;
  readonly retriable: boolean;

  constructor(code: WalauditErrorCode, message: string, options: WalauditErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'WalauditError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

export function isWalauditError(error: unknown): error is WalauditError {
  return error instanceof WalauditError;
}

/** The message of any thrown value, for logs: never throws itself. */
export function describeError(error: unknown): string {
  if (error instanceof WalauditError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
