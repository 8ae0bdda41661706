import pg from 'pg';
import { MESSAGE_PREFIX, parseLsn, type Lsn } from '@walaudit/core';
import { toWalauditError } from './pg-errors.js';

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
}

/**
 * A plain (non-replication) connection that watches the slot and writes heartbeats. A heartbeat
 * is a non-transactional logical message: it reaches the reader even when every audited table is
 * idle or filtered out, and lets the confirmed position follow the server's WAL.
 */
export class SlotMonitor {
  private client: pg.Client | null = null;

  constructor(private readonly url: string, private readonly slot: string) {}

  async state(): Promise<SlotState> {
    const result = await this.query(
      `SELECT s.active, s.active_pid, s.confirmed_flush_lsn::text AS confirmed, pg_current_wal_lsn()::text AS server,
              COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn), 0)::bigint AS lag,
              COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn), 0)::bigint AS held
         FROM (SELECT 1) AS one
         LEFT JOIN pg_replication_slots s ON s.slot_name = $1`,
      [this.slot],
    );
    const row = result.rows[0] as { active: boolean | null; active_pid: number | null; confirmed: string | null; server: string; lag: string; held: string };
    return {
      slot: this.slot,
      exists: row.active !== null,
      active: row.active === true,
      activePid: row.active_pid,
      confirmedLsn: row.confirmed ? parseLsn(row.confirmed) : null,
      serverLsn: parseLsn(row.server),
      lagBytes: Number(row.lag),
      retainedBytes: Number(row.held),
    };
  }

  async heartbeat(): Promise<void> {
    await this.query('SELECT pg_logical_emit_message(false, $1, $2)', [MESSAGE_PREFIX.heartbeat, new Date().toISOString()]);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private async query(sql: string, params: unknown[]): Promise<pg.QueryResult> {
    try {
      if (!this.client) {
        const client = new pg.Client({ connectionString: this.url, application_name: 'walaudit-monitor' });
        client.on('error', () => {
          this.client = null;
        });
        await client.connect();
        this.client = client;
      }
      return await this.client.query(sql, params);
    } catch (error) {
      await this.close();
      throw toWalauditError(error, this.url);
    }
  }
}
