import { useState } from 'preact/hooks';
import { api, errorText } from '../lib/api';
import { formatTime } from '../lib/format';
import { useIsManager } from '../lib/me';
import { useApi } from '../lib/use-api';
import { DataTable, type Columns } from '../parts/data-table';

interface Override {
  table: string;
  mode?: 'exclude' | 'watch';
  retentionDays?: number;
}
interface Change {
  id: string;
  action: string;
  table: string;
  days?: number;
  by: string;
  role: string;
  at: string;
  pending?: boolean;
}
interface Retention {
  table: string;
  days: number | null;
  from: string;
}

const historyColumns: Columns<Change> = [
  { id: 'at', header: 'When', cell: ({ row }) => <time title={row.original.at}>{formatTime(new Date(row.original.at))}</time> },
  { id: 'who', header: 'Who', cell: ({ row }) => `${row.original.by} (${row.original.role})` },
  { id: 'action', header: 'Change', cell: ({ row }) => `${row.original.action}${row.original.days !== undefined ? ` ${row.original.days} days` : ''}${row.original.pending ? ' (not in effect yet)' : ''}` },
  { id: 'table', header: 'Table', cell: ({ row }) => row.original.table },
];

const retentionColumns: Columns<Retention> = [
  { id: 'table', header: 'Table', cell: ({ row }) => row.original.table },
  { id: 'days', header: 'Kept', cell: ({ row }) => (row.original.days === null ? 'not audited' : row.original.days === 0 ? 'forever' : `${row.original.days} days`) },
  { id: 'from', header: 'Decided by', cell: ({ row }) => row.original.from },
];

/** The rules in effect, who changed what when, and retention per table. Managers may undo. */
export function RulesPage() {
  const manager = useIsManager();
  const rules = useApi<{ overrides: Override[]; history: Change[] }>('/api/rules');
  const retention = useApi<{ defaultDays: number; tables: Retention[] }>('/api/retention');
  const [message, setMessage] = useState('');
  const undo = async (table: string, action: 'exclude' | 'watch') => {
    try {
      await api(`/api/rules/${encodeURIComponent(table)}/${action}`, { method: 'DELETE' });
      setMessage(`${table} follows the config rules again.`);
      rules.reload();
      retention.reload();
    } catch (failure) {
      setMessage(errorText(failure));
    }
  };
  const [retentionTable, setRetentionTable] = useState('');
  const [retentionDays, setRetentionDays] = useState('');
  const keep = async (event: Event) => {
    event.preventDefault();
    try {
      await api(`/api/retention/${encodeURIComponent(retentionTable.trim())}`, { method: 'PUT', body: { days: Number(retentionDays) } });
      setMessage(`The next entries of ${retentionTable.trim()} are kept ${Number(retentionDays) === 0 ? 'forever' : `${retentionDays} days`}.`);
      rules.reload();
      retention.reload();
    } catch (failure) {
      setMessage(errorText(failure));
    }
  };
  const modes = (rules.data?.overrides ?? []).filter((override) => override.mode);
  return (
    <section>
      <h1>Rules and retention</h1>
      {rules.error && <p role="alert">{rules.error}</p>}
      <h2>Tables changed at run time</h2>
      {modes.length === 0 ? (
        <p>None: every table follows the config rules.</p>
      ) : (
        <ul>
          {modes.map((override) => (
            <li key={override.table}>
              {override.table}: {override.mode === 'exclude' ? 'not audited' : 'watched (critical)'}{' '}
              {manager && (
                <button type="button" onClick={() => void undo(override.table, override.mode!)}>
                  Undo {override.mode} of {override.table}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <p role="status">{message}</p>
      <h2>Who changed what</h2>
      <DataTable data={[...(rules.data?.history ?? [])].reverse()} columns={historyColumns} caption="Rule changes, newest first" rowId={(change) => change.id} empty="No change yet." />
      <h2>Retention</h2>
      <p>Entries of a table not listed are kept {retention.data ? `${retention.data.defaultDays} days` : '…'} (0: forever).</p>
      <DataTable data={retention.data?.tables ?? []} columns={retentionColumns} caption="Days each table's next entries are kept" rowId={(row) => row.table} />
      {manager && (
        <form class="controls" onSubmit={keep} aria-label="Set a table's retention">
          <label>
            Table
            <input required value={retentionTable} onInput={(event) => setRetentionTable(event.currentTarget.value)} />
          </label>
          <label>
            Keep its next entries (days, 0 forever)
            <input required type="number" min={0} max={65535} value={retentionDays} onInput={(event) => setRetentionDays(event.currentTarget.value)} />
          </label>
          <button type="submit">Set retention</button>
        </form>
      )}
    </section>
  );
}
