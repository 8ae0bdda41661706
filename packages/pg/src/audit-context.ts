import type pg from 'pg';
import { MESSAGE_PREFIX, type AppContext } from '@walaudit/core';

/**
 * The application's side of the actor: who did this and why, written into the WAL by the same
 * transaction as the changes, so the reader attaches it to exactly those rows.
 */

/**
 * Runs fn in a transaction that starts with the `walaudit` context message: BEGIN, emit, fn, COMMIT;
 * ROLLBACK (and rethrow) when anything fails, which discards the message with the changes. The
 * client must not already be in a transaction (use a pool client or a dedicated connection).
 */
export async function withAuditContext<T>(client: pg.ClientBase, ctx: AppContext, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await emitAuditContext(client, ctx);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // A failed ROLLBACK (connection gone) must not hide the error that caused it.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Writes the `walaudit` context message into the caller's open transaction: call it before the
 * changes it describes (the reader attaches it to the rows that follow). For a transaction that
 * reads before it writes; withAuditContext is BEGIN, this, fn, COMMIT.
 */
export async function emitAuditContext(client: pg.ClientBase, ctx: AppContext): Promise<void> {
  await emit(client, MESSAGE_PREFIX.appContext, ctx);
}

/** A lifecycle action (approve, export, download) recorded in the audit trail. */
export interface AuditAction {
  name: string;
  table?: string;
  key?: Record<string, string>;
  [key: string]: unknown;
}

/**
 * Records an action with prefix `walaudit.action`. The message is transactional: call it inside the
 * caller's transaction (for example within withAuditContext) so it commits, or rolls back, with the
 * changes it describes. Outside a transaction it commits on its own, as a transaction of its own.
 */
export async function recordAuditAction(client: pg.ClientBase, action: AuditAction): Promise<void> {
  await emit(client, MESSAGE_PREFIX.action, action);
}

async function emit(client: pg.ClientBase, prefix: string, content: object): Promise<void> {
  await client.query('SELECT pg_logical_emit_message(true, $1, $2)', [prefix, JSON.stringify(content)]);
}
