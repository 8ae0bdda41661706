import type { ApiRole, RuleChange, RuleChangeAction, RuleChangeStore } from '@walaudit/core';
import type { ClickHouseStore } from './clickhouse-store.js';

interface ChangeRow {
  id: string;
  action: string;
  table_name: string;
  days: number | string | null;
  changed_at: string;
  changed_by: string;
  role: string;
  entry_id: string;
}

/** The rule_changes table (schemas/clickhouse/0008_rule_changes.sql) of an opened, migrated store. */
export function createClickHouseRuleChangeStore(store: ClickHouseStore): RuleChangeStore {
  return {
    async record(change) {
      await store.insertRows('rule_changes', [
        {
          id: change.id,
          action: change.action,
          table_name: change.table,
          days: change.action === 'retention-set' ? (change.days ?? 0) : null,
          changed_at: change.at.replace('T', ' ').replace('Z', ''),
          changed_by: change.by,
          role: change.role,
          entry_id: change.entryId ?? '',
        },
      ]);
    },
    async history() {
      const rows = await store.select<ChangeRow>(
        `SELECT id, action, table_name, days, formatDateTime(changed_at, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC') AS changed_at, changed_by, role, entry_id
         FROM ${store.table('rule_changes')} ORDER BY changed_at, id`,
      );
      return rows.map(
        (row): RuleChange => ({
          id: row.id,
          action: row.action as RuleChangeAction,
          table: row.table_name,
          ...(row.days === null ? {} : { days: Number(row.days) }),
          by: row.changed_by,
          role: row.role as ApiRole,
          at: row.changed_at,
          ...(row.entry_id ? { entryId: row.entry_id } : {}),
        }),
      );
    },
    async tablesInLog() {
      // Distinct over two LowCardinality columns: read from their dictionaries, not from the events.
      const rows = await store.select<{ qualified: string }>(
        `SELECT DISTINCT concat(schema_name, '.', table_name) AS qualified FROM ${store.table('audit_log')}
         WHERE op NOT IN ('action', 'schema') AND table_name != '' ORDER BY qualified`,
      );
      return rows.map((row) => row.qualified);
    },
  };
}
