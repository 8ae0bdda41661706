import { useRoute } from 'preact-iso';
import { formatTime } from '../lib/format';
import type { Entry } from '../lib/types';
import { useIsManager } from '../lib/me';
import { useApi } from '../lib/use-api';
import { DataTable } from '../parts/data-table';
import { RestorePanel } from '../parts/restore-panel';
import { entryColumns } from './log';

interface Transaction {
  xid: number;
  lsn: string;
  commitTime: string;
  entryCount: number;
  tables: string[];
  counts: { table: string; op: string; entries: number }[];
  entries: Entry[];
  truncated: boolean;
}

/** One transaction summed up (GET /api/transactions/:xid). */
export function TransactionPage() {
  const { params } = useRoute();
  const manager = useIsManager();
  const { data, error } = useApi<Transaction>(`/api/transactions/${encodeURIComponent(params.xid!)}`);
  if (error) return <p role="alert">{error}</p>;
  if (!data) return <p role="status">Loading…</p>;
  return (
    <section>
      <h1>Transaction {data.xid}</h1>
      <p>
        Committed <time title={data.commitTime}>{formatTime(new Date(data.commitTime))}</time> at LSN {data.lsn}: {data.entryCount} entries in {data.tables.join(', ')}.
      </p>
      <ul>
        {data.tables.map((table) => (
          <li key={table}>
            {table}:{' '}
            {data.counts
              .filter((count) => count.table === table)
              .map((count) => `${count.entries} ${count.op}`)
              .join(', ')}
          </li>
        ))}
      </ul>
      <DataTable data={data.entries} columns={entryColumns} caption="Its entries, in log order" rowId={(entry) => entry.id} />
      {data.truncated && <a href={`/log?xid=${data.xid}`}>Every entry of this transaction</a>}
      {manager && <RestorePanel target={String(data.xid)} kinds={['tx']} />}
    </section>
  );
}
