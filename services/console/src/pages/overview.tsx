import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { followEvents } from '../lib/live';
import type { Counters } from '../lib/types';
import { useApi } from '../lib/use-api';
import { DataTable, type Columns } from '../parts/data-table';
import { TimeChart, type StatsPoint } from '../parts/time-chart';

type GroupBy = 'table' | 'actor' | 'op';
interface Deleter {
  actor: string;
  deletes: number;
  truncates: number;
}

const RANGES = { '24h': { hours: 24, bucket: 'hour' }, '30d': { hours: 24 * 30, bucket: 'day' } } as const;

function startOfToday(): string {
  const now = new Date();
  return new Date(now.getFullYear(), now.getMonth(), now.getDate()).toISOString();
}

const deleterColumns: Columns<Deleter> = [
  { id: 'actor', header: 'Actor', cell: ({ row }) => <a href={`/log?actor=${encodeURIComponent(row.original.actor)}&op=delete`}>{row.original.actor}</a> },
  { id: 'deletes', header: 'Rows deleted', cell: ({ row }) => row.original.deletes },
  { id: 'truncates', header: 'Truncates', cell: ({ row }) => row.original.truncates },
];

function Counter({ label, value, href, testId }: { label: string; value: string | number; href?: string; testId: string }) {
  const body = (
    <>
      <span class="count" data-testid={testId}>
        {value}
      </span>
      <span class="label">{label}</span>
    </>
  );
  return <li class="counter">{href ? <a href={href}>{body}</a> : body}</li>;
}

/** The dashboard: open alerts, today's deletions, the pipeline, changes over time, who deletes. Live through /api/events. */
export function OverviewPage() {
  const [counters, setCounters] = useState<Counters | null>(null);
  const [connected, setConnected] = useState(false);
  const [groupBy, setGroupBy] = useState<GroupBy>('table');
  const [range, setRange] = useState<keyof typeof RANGES>('24h');
  const [round, setRound] = useState(0);
  const since = useMemo(() => new Date(Date.now() - RANGES[range].hours * 3600_000).toISOString(), [range, round]);
  const stats = useApi<{ points: StatsPoint[]; from: string; to: string }>(`/api/stats?bucket=${RANGES[range].bucket}&groupBy=${groupBy}&from=${encodeURIComponent(since)}`);
  const deletions = useApi<{ points: StatsPoint[] }>(`/api/stats?bucket=day&groupBy=op&op=delete&from=${encodeURIComponent(startOfToday())}`);
  const deleters = useApi<{ actors: Deleter[] }>('/api/stats/top-deleters?limit=10');
  const counts = useApi<{ byKind: Record<string, number>; total: number }>('/api/alerts/counts');
  const refresh = useRef<ReturnType<typeof setTimeout>>();
  useEffect(() => {
    if (round === 0) return;
    deletions.reload();
    deleters.reload();
  }, [round]);

  useEffect(() => {
    const abort = new AbortController();
    followEvents(
      ({ event, data }) => {
        if (event === 'counters') setCounters(data as Counters);
        if (event === 'counters' || event.startsWith('alert')) {
          // A change worth counting happened: read the charts again, at most once in two seconds.
          clearTimeout(refresh.current);
          refresh.current = setTimeout(() => setRound((n) => n + 1), 2000);
        }
      },
      setConnected,
      abort.signal,
    );
    return () => {
      abort.abort();
      clearTimeout(refresh.current);
    };
  }, []);

  const byKind = counters?.openAlerts?.byKind ?? counts.data?.byKind ?? {};
  const deletedToday = (deletions.data?.points ?? []).reduce((sum, point) => sum + point.entries, 0);
  const pipeline = counters?.pipeline;
  const lag = pipeline?.lagBytes == null ? 'unknown' : `${Math.round(pipeline.lagBytes / 1024)} KiB`;
  const topDeleters = deleters.data?.actors ?? [];

  return (
    <section>
      <h1>Overview</h1>
      <p class="live" role="status">
        {connected ? 'Live: updates as changes are stored.' : 'Connecting to live updates…'}
      </p>
      <ul class="counters" aria-label="Counters">
        <Counter label="open bulk-deletion alerts" value={byKind['bulk-delete'] ?? 0} href="/alerts?kind=bulk-delete" testId="count-bulk-delete" />
        <Counter label="open critical-table alerts" value={byKind['critical-table'] ?? 0} href="/alerts?kind=critical-table" testId="count-critical-table" />
        <Counter label="rows deleted today" value={deletions.data ? deletedToday : '…'} href={`/log?op=delete&from=${encodeURIComponent(startOfToday())}`} testId="count-deleted-today" />
        <Counter label={`pipeline${pipeline?.slotLost ? ': SLOT LOST' : ''}, slot lag ${lag}`} value={pipeline?.state ?? '…'} testId="pipeline-state" />
      </ul>
      <h2>Changes over time</h2>
      <div class="controls">
        <label>
          Group by{' '}
          <select value={groupBy} onChange={(event) => setGroupBy(event.currentTarget.value as GroupBy)}>
            <option value="table">table</option>
            <option value="actor">actor</option>
            <option value="op">operation</option>
          </select>
        </label>
        <label>
          Range{' '}
          <select value={range} onChange={(event) => setRange(event.currentTarget.value as keyof typeof RANGES)}>
            <option value="24h">last 24 hours, by hour</option>
            <option value="30d">last 30 days, by day</option>
          </select>
        </label>
      </div>
      {stats.error && <p role="alert">{stats.error}</p>}
      {stats.data && <TimeChart points={stats.data.points} from={stats.data.from} to={stats.data.to} label={`Entries per ${RANGES[range].bucket} by ${groupBy}`} />}
      <h2>Top deleters, last 30 days</h2>
      <DataTable data={topDeleters} columns={deleterColumns} caption="Actors by rows deleted" rowId={(row) => row.actor} empty="No deletions in the last 30 days." />
    </section>
  );
}
