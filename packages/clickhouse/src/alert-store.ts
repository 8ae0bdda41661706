import type { Alert, AlertKind, AlertQuery, AlertStore, RowImage, StoredDeletion } from '@walaudit/core';
import type { ClickHouseStore } from './clickhouse-store.js';

/** ClickHouse DateTime64 text: `2026-11-24 10:00:00.123456` from ISO 8601 (UTC). */
function chTime(iso: string): string {
  return iso.replace('T', ' ').replace('Z', '');
}

function alertRow(alert: Alert): Record<string, unknown> {
  return {
    id: alert.id,
    version: alert.version,
    kind: alert.kind,
    status: alert.status,
    actor: alert.actor.name,
    app_user: alert.actor.appUser ?? '',
    db_user: alert.actor.dbUser ?? '',
    client_ip: alert.actor.ip ?? '',
    application_name: alert.actor.applicationName ?? '',
    tables: alert.tables.map((table) => table.table),
    table_rows: alert.tables.map((table) => table.rows),
    rows: alert.rows,
    all_rows: alert.allRows,
    window_minutes: alert.window?.minutes ?? 0,
    threshold: alert.window?.threshold ?? 0,
    window_start: alert.window ? chTime(alert.window.start) : null,
    xid: alert.xid ?? 0,
    xids: alert.xids,
    transactions: alert.transactions,
    first_commit_time: chTime(alert.firstCommitTime),
    last_commit_time: chTime(alert.lastCommitTime),
    first_entry_id: alert.firstEntryId,
    last_entry_id: alert.lastEntryId,
    raised_at: chTime(alert.raisedAt),
    updated_at: chTime(alert.updatedAt),
    acknowledged_by: alert.acknowledgement?.by ?? '',
    acknowledged_at: alert.acknowledgement ? chTime(alert.acknowledgement.at) : null,
    ack_note: alert.acknowledgement?.note ?? '',
    alert: JSON.stringify(alert),
  };
}

/** The alerts table (schemas/clickhouse/0002_alerts.sql) of an opened, migrated store. */
export function createClickHouseAlertStore(store: ClickHouseStore): AlertStore {
  const alerts = store.table('alerts');
  const auditLog = store.table('audit_log');

  const latest = async (where: string, having: string, limit: number, params: Record<string, unknown>): Promise<Alert[]> => {
    const rows = await store.select<{ latest: string; acked: string }>(
      `SELECT id, argMax(alert, (version, updated_at)) AS latest,
              argMaxIf(alert, (version, updated_at), status = 'acknowledged') AS acked
       FROM ${alerts} ${where}
       GROUP BY id ${having}
       ORDER BY max(raised_at) DESC, id
       LIMIT ${limit}`,
      params,
    );
    return rows.map((row) => {
      const alert = JSON.parse(row.latest) as Alert;
      if (row.acked) {
        // An update written after the acknowledgement (a batch racing it) keeps it acknowledged.
        const acked = JSON.parse(row.acked) as Alert;
        alert.status = 'acknowledged';
        alert.acknowledgement = acked.acknowledgement;
      }
      return alert;
    });
  };

  return {
    async saveAlerts(list) {
      await store.insertRows('alerts', list.map(alertRow));
    },
    async listAlerts(query: AlertQuery) {
      const conditions: string[] = [];
      const params: Record<string, unknown> = {};
      if (query.ids && query.ids.length > 0) {
        conditions.push('id IN {ids:Array(String)}');
        params.ids = [...query.ids];
      }
      const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
      const having = query.open ? `HAVING countIf(status = 'acknowledged') = 0` : '';
      const limit = Math.max(0, Math.min(100_000, Math.floor(query.limit)));
      return latest(where, having, limit, params);
    },
    async recentAlerts(since) {
      const found = await latest(`WHERE last_commit_time >= parseDateTime64BestEffort({since:String}, 6, 'UTC')`, '', 100_000, { since });
      return found;
    },
    async recentDeletions(since) {
      const rows = await store.select<{
        schema_name: string; table_name: string; op: 'delete' | 'truncate'; xid: string; app_user: string; db_user: string; trace_id: string;
        client_ip: string; application_name: string; commit_time: string; rows: string; first_id: string; last_id: string; critical: boolean | number; keys: string[];
      }>(
        `SELECT schema_name, table_name, op, toString(xid) AS xid, app_user, db_user, trace_id,
                any(client_ip) AS client_ip, any(application_name) AS application_name,
                formatDateTime(min(commit_time), '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS commit_time,
                toString(count()) AS rows, argMin(id, (lsn, seq)) AS first_id, argMax(id, (lsn, seq)) AS last_id,
                max(critical) AS critical, groupArray(20)(pk) AS keys, min((lsn, seq)) AS first_position
         FROM (SELECT id, lsn, seq, schema_name, table_name, op, xid, app_user, db_user, trace_id, client_ip, application_name, commit_time, critical, pk FROM ${auditLog}
               WHERE op IN ('delete', 'truncate') AND commit_time >= parseDateTime64BestEffort({since:String}, 6, 'UTC')
               ORDER BY lsn, seq LIMIT 1 BY lsn, seq)
         GROUP BY schema_name, table_name, op, xid, app_user, db_user, trace_id
         ORDER BY first_position`,
        { since },
      );
      return rows.map((row): StoredDeletion => {
        const appUser = row.app_user || null;
        const dbUser = row.db_user || null;
        return {
          actor: { name: appUser ?? dbUser ?? 'unknown', appUser, dbUser, ip: row.client_ip || null, applicationName: row.application_name || null, traceId: row.trace_id || null },
          table: `${row.schema_name}.${row.table_name}`,
          schema: row.schema_name,
          tableName: row.table_name,
          op: row.op,
          xid: Number(row.xid),
          commitTime: row.commit_time,
          rows: Number(row.rows),
          firstEntryId: row.first_id,
          lastEntryId: row.last_id,
          critical: Boolean(Number(row.critical)),
          keys: row.keys.map((key) => JSON.parse(key) as RowImage).filter((key) => key !== null),
        };
      });
    },
    async newestCommitTime() {
      const rows = await store.select<{ newest: string | null; entries: string }>(
        `SELECT formatDateTime(max(commit_time), '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS newest, toString(count()) AS entries FROM ${auditLog} WHERE op != 'action'`,
      );
      return rows[0] && rows[0].entries !== '0' ? rows[0].newest : null;
    },
    async openAlertCounts() {
      // Every version of an alert has its kind; one acknowledged version closes it.
      const rows = await store.select<{ kind: AlertKind; alerts: string }>(
        `SELECT kind, toString(count()) AS alerts FROM (SELECT id, any(kind) AS kind FROM ${alerts} GROUP BY id HAVING countIf(status = 'acknowledged') = 0)
         GROUP BY kind ORDER BY kind`,
      );
      return Object.fromEntries(rows.map((row) => [row.kind, Number(row.alerts)])) as Partial<Record<AlertKind, number>>;
    },
  };
}
