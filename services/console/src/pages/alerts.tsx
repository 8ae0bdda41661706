import { useMemo, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, errorText } from '../lib/api';
import { formatTime } from '../lib/format';
import type { Alert } from '../lib/types';
import { useApi } from '../lib/use-api';
import { DataTable, type Columns } from '../parts/data-table';

const KINDS = ['bulk-delete', 'critical-table', 'slot-lost'];

/** The log filtered to what the alert counted: its transaction, else the actor's deletions in its window. */
function entriesLink(alert: Alert): string {
  if (alert.xid !== null) return `/log?xid=${alert.xid}`;
  const to = new Date(Date.parse(alert.lastCommitTime) + 1000).toISOString();
  const params = new URLSearchParams({ table: alert.tables.map((table) => table.table).join(','), op: 'delete', actor: alert.actor.name, from: alert.firstCommitTime, to });
  return `/log?${params}`;
}

/** Alerts: filter by kind and state, select several, acknowledge them with a note. */
export function AlertsPage() {
  const { query, route } = useLocation();
  const kind = (query as Record<string, string>).kind ?? '';
  const openOnly = (query as Record<string, string>).open === '1';
  const alerts = useApi<{ alerts: Alert[] }>(`/api/alerts?limit=500${openOnly ? '&open=1' : ''}`);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [note, setNote] = useState('');
  const [message, setMessage] = useState('');
  const shown = useMemo(() => (alerts.data?.alerts ?? []).filter((alert) => !kind || alert.kind === kind), [alerts.data, kind]);

  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };
  const columns: Columns<Alert> = useMemo(
    () => [
      {
        id: 'select',
        header: () => {
          const open = shown.filter((alert) => !alert.acknowledgement).map((alert) => alert.id);
          const all = open.length > 0 && open.every((id) => selected.has(id));
          return <input type="checkbox" aria-label="Select every open alert shown" checked={all} disabled={open.length === 0} onChange={(event) => setSelected(event.currentTarget.checked ? new Set(open) : new Set())} />;
        },
        cell: ({ row }) =>
          row.original.acknowledgement ? (
            ''
          ) : (
            <input type="checkbox" aria-label={`Select alert ${row.original.id}`} checked={selected.has(row.original.id)} onChange={(event) => toggle(row.original.id, event.currentTarget.checked)} />
          ),
      },
      { id: 'kind', header: 'Kind', cell: ({ row }) => row.original.kind },
      { id: 'raised', header: 'Raised', cell: ({ row }) => <time title={row.original.raisedAt}>{formatTime(new Date(row.original.raisedAt))}</time> },
      { id: 'actor', header: 'Actor', cell: ({ row }) => row.original.actor.name },
      { id: 'tables', header: 'Tables', cell: ({ row }) => row.original.tables.map((table) => `${table.table} (${table.allRows ? 'all rows' : table.rows})`).join(', ') },
      { id: 'rows', header: 'Rows', cell: ({ row }) => row.original.rows },
      { id: 'entries', header: 'Entries', cell: ({ row }) => <a href={entriesLink(row.original)}>Entries of alert {row.original.id}</a> },
      {
        id: 'state',
        header: 'State',
        cell: ({ row }) => {
          const ack = row.original.acknowledgement;
          return ack ? `acknowledged by ${ack.by}${ack.note ? `: ${ack.note}` : ''}` : 'open';
        },
      },
    ],
    [selected, shown],
  );

  const acknowledge = async (event: Event) => {
    event.preventDefault();
    try {
      const answer = await api<{ acknowledged: Alert[] }>('/api/alerts/ack', { method: 'POST', body: { ids: [...selected], ...(note.trim() ? { note: note.trim() } : {}) } });
      setMessage(`Acknowledged ${answer.acknowledged.length} alert(s).`);
      setSelected(new Set());
      setNote('');
      alerts.reload();
    } catch (failure) {
      setMessage(errorText(failure));
    }
  };
  const go = (next: { kind?: string; open?: boolean }) => {
    const params = new URLSearchParams();
    const k = next.kind ?? kind;
    if (k) params.set('kind', k);
    if (next.open ?? openOnly) params.set('open', '1');
    route(`/alerts?${params}`);
  };

  return (
    <section>
      <h1>Alerts</h1>
      <div class="controls">
        <label>
          Kind
          <select value={kind} onChange={(event) => go({ kind: event.currentTarget.value })}>
            <option value="">every kind</option>
            {KINDS.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" checked={openOnly} onChange={(event) => go({ open: event.currentTarget.checked })} /> Open only
        </label>
      </div>
      {alerts.error && <p role="alert">{alerts.error}</p>}
      <DataTable data={shown} columns={columns} caption="Alerts, newest raised first" rowId={(alert) => alert.id} empty={alerts.data ? 'No alert.' : 'Loading…'} />
      <form class="controls" onSubmit={acknowledge} aria-label="Acknowledge the selected alerts">
        <label>
          Note
          <input value={note} onInput={(event) => setNote(event.currentTarget.value)} />
        </label>
        <button type="submit" disabled={selected.size === 0}>
          Acknowledge {selected.size} selected
        </button>
        <span role="status">{message}</span>
      </form>
    </section>
  );
}
