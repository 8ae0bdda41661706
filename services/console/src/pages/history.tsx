import { useLocation } from 'preact-iso';
import { formatTime } from '../lib/format';
import type { Entry, Row } from '../lib/types';
import { useApi } from '../lib/use-api';
import { DataTable, type Columns } from '../parts/data-table';

interface Version {
  kind: string;
  entry: Entry;
  row: Row | null;
  changes?: { column: string; before: string | null; after: string | null }[];
  restore?: { requestedBy?: string; reason?: string; job?: string };
}

const columns: Columns<Version> = [
  { id: 'when', header: 'Committed', cell: ({ row }) => <time title={row.original.entry.tx.commitTime}>{formatTime(new Date(row.original.entry.tx.commitTime))}</time> },
  { id: 'kind', header: 'Version', cell: ({ row }) => <a href={`/entries/${row.original.entry.id}`}>{row.original.kind}</a> },
  { id: 'who', header: 'By', cell: ({ row }) => row.original.restore?.requestedBy ?? row.original.entry.actor.app?.user ?? row.original.entry.actor.db?.user ?? '' },
  { id: 'what', header: 'Changed', cell: ({ row }) => (row.original.changes ?? []).map((change) => `${change.column}: ${change.before ?? 'NULL'} → ${change.after ?? 'NULL'}`).join('; ') },
];

/** Every version of one row, oldest first (GET /api/history). */
export function HistoryPage() {
  const { query } = useLocation();
  const table = (query as Record<string, string>).table ?? '';
  const pk = (query as Record<string, string>).pk ?? '';
  const { data, error } = useApi<{ versions: Version[] }>(table && pk ? `/api/history?table=${encodeURIComponent(table)}&pk=${encodeURIComponent(pk)}` : null);
  return (
    <section>
      <h1>
        History of {table} {pk}
      </h1>
      {error && <p role="alert">{error}</p>}
      <DataTable data={data?.versions ?? []} columns={columns} caption="Versions, oldest first" rowId={(version) => version.entry.id} empty={data ? 'The log never saw this row.' : 'Loading…'} />
    </section>
  );
}
