import pg from 'pg';
import { MESSAGE_PREFIX, parseLsn, WalauditError, type Lsn, type SlotLoss, type SlotRisk } from '@walaudit/core';
import { connectionLabel, toWalauditError } from './pg-errors.js';
import { libpqConnectionString } from './connection-string.js';
import { unpreparedPartitionsOf } from './partition-readiness.js';
import { SLOT_LOSS_COLUMNS, slotLossOfRow, slotRiskOf, type SlotLossRow } from './slot-health.js';

export interface SlotState {
  slot: string;
  /** False when the slot is gone: the WAL is no longer held, but walaudit cannot resume. */
  exists: boolean;
  active: boolean;
  activePid: number | null;
  confirmedLsn: Lsn | null;
  serverLsn: Lsn;
  /** How far the confirmed position is behind the server's current WAL, in bytes. */
  lagBytes: number;
  /** WAL the slot keeps on the server's disk (from its restart position), in bytes. */
  retainedBytes: number;
  /** Set once Postgres invalidated the slot: it can never be read again (see slot-health.ts). */
  lost: SlotLoss | null;
  /** Set while the slot may be invalidated at the next checkpoint (wal_status unreserved). */
  atRisk: SlotRisk | null;
}

/**
 * A plain (non-replication) connection that watches the slot and writes heartbeats. A heartbeat
 * is a non-transactional logical message: it reaches the reader even when every audited table is
 * idle or filtered out, and lets the confirmed position follow the server's WAL.
 */
export class SlotMonitor {
  private client: pg.Client | null = null;
  /** The one connect in progress: callers that find no client meanwhile share it. */
  private connecting: Promise<pg.Client> | null = null;
  private closed = false;
  private readonly closeRequested: Promise<never>;
  private requestClose: (error: WalauditError) => void = () => {};

  constructor(private readonly url: string, private readonly slot: string) {
    this.closeRequested = new Promise<never>((_resolve, reject) => (this.requestClose = reject));
    this.closeRequested.catch(() => undefined);
  }

  async state(): Promise<SlotState> {
    const result = await this.query(
      `SELECT s.active, s.active_pid, s.confirmed_flush_lsn::text AS confirmed, pg_current_wal_lsn()::text AS server,
              COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn), 0)::bigint AS lag,
              COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn), 0)::bigint AS held,
              s.safe_wal_size::bigint AS safe_wal,
              ${SLOT_LOSS_COLUMNS}
         FROM (SELECT 1) AS one
         LEFT JOIN pg_replication_slots s ON s.slot_name = $1`,
      [this.slot],
    );
    const row = result.rows[0] as SlotLossRow & { active: boolean | null; active_pid: number | null; confirmed: string | null; server: string; lag: string; held: string; safe_wal: string | null };
    return {
      slot: this.slot,
      exists: row.active !== null,
      active: row.active === true,
      activePid: row.active_pid,
      confirmedLsn: row.confirmed ? parseLsn(row.confirmed) : null,
      serverLsn: parseLsn(row.server),
      lagBytes: Number(row.lag),
      retainedBytes: Number(row.held),
      lost: slotLossOfRow(row),
      atRisk: slotRiskOf(this.slot, row.wal_status, row.safe_wal === null ? null : Number(row.safe_wal)),
    };
  }

  /** Partitions of `publication` added after setup (see partition-readiness.ts), on this connection. */
  async unpreparedPartitions(publication: string): Promise<string[]> {
    return unpreparedPartitionsOf((sql, params) => this.query(sql, params), publication);
  }

  async heartbeat(): Promise<void> {
    await this.query('SELECT pg_logical_emit_message(false, $1, $2)', [MESSAGE_PREFIX.heartbeat, new Date().toISOString()]);
  }

  /**
   * Ends the connection for good: later calls fail without connecting (a status request after the
   * pipeline stopped must not open a connection that keeps the process alive), and a connect in
   * progress is abandoned and its socket closed.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.requestClose(new WalauditError('PG_UNREACHABLE', `the slot monitor of ${connectionLabel(this.url)} is closed (walaudit is stopping)`));
    await this.drop(this.client);
  }

  private async query(sql: string, params: unknown[]): Promise<pg.QueryResult> {
    let client: pg.Client | null = null;
    try {
      client = await this.connection();
      return await client.query(sql, params);
    } catch (error) {
      await this.drop(client);
      throw toWalauditError(error, this.url);
    }
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    // Callers share one connect: the heartbeat and the lag check often fire in the same tick, and
    // a second connection would be overwritten, never closed, and keep the process alive.
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    if (this.closed) return this.closeRequested;
    const client = new pg.Client({ connectionString: libpqConnectionString(this.url), application_name: 'walaudit-monitor' });
    // The next query reconnects; an 'error' without a listener would end the process.
    client.on('error', () => void this.drop(client));
    const connected = client.connect();
    connected.catch(() => undefined);
    try {
      // pg never settles a connect() whose client was ended meanwhile: close() is raced instead.
      await Promise.race([connected, this.closeRequested]);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return this.closeRequested;
    }
    this.client = client;
    return client;
  }

  /** Ends a connection that failed (or every one, on close); a newer connection stays. */
  private async drop(client: pg.Client | null): Promise<void> {
    if (!client) return;
    if (this.client === client) this.client = null;
    await client.end().catch(() => {});
  }
}
