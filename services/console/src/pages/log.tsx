import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { download, errorText } from '../lib/api';
import { filterFromSearch, filterToSearch, isoToLocalInput, localInputToIso, type Filter, type FilterKey } from '../lib/filter';
import { formatTime, keyText } from '../lib/format';
import { actorName, type Entry } from '../lib/types';
import { useApi } from '../lib/use-api';
import { DataTable, type Columns } from '../parts/data-table';

const PAGE = 50;
const OPS = ['insert', 'update', 'delete', 'truncate', 'action', 'schema'];
const TEXT_FIELDS: { key: FilterKey; label: string; hint?: string }[] = [
  { key: 'table', label: 'Table', hint: 'schema.table or a name; several comma-separated' },
  { key: 'actor', label: 'Actor' },
  { key: 'ip', label: 'Client IP' },
  { key: 'application', label: 'Application' },
  { key: 'xid', label: 'Transaction id' },
  { key: 'pk', label: 'Primary key', hint: 'JSON, with one table: {"id":"42"}' },
  { key: 'text', label: 'Text in a value' },
];

export const entryColumns: Columns<Entry> = [
  { id: 'time', header: 'Committed', cell: ({ row }) => <time title={row.original.tx.commitTime}>{formatTime(new Date(row.original.tx.commitTime))}</time> },
  { id: 'table', header: 'Table', cell: ({ row }) => (row.original.table ? `${row.original.schema}.${row.original.table}` : '') },
  { id: 'op', header: 'Operation', cell: ({ row }) => <span class={`op op-${row.original.op}`}>{row.original.op}</span> },
  { id: 'key', header: 'Row', cell: ({ row }) => <a href={`/entries/${row.original.id}`}>{keyText(row.original.pk) || row.original.action?.name || row.original.id}</a> },
  { id: 'actor', header: 'Actor', cell: ({ row }) => actorName(row.original) },
  { id: 'xid', header: 'Transaction', cell: ({ row }) => <a href={`/transactions/${row.original.tx.xid}`}>{row.original.tx.xid}</a> },
];

/** The audit log: every filter of GET /api/entries, in the URL; keyset pages; exports of the same filter. */
export function LogPage() {
  const { query, route } = useLocation();
  const search = new URLSearchParams(query as Record<string, string>);
  const filter = filterFromSearch(search);
  const cursor = search.get('cursor') ?? undefined;
  const [draft, setDraft] = useState<Filter>(filter);
  const shown = filterToSearch(filter);
  // A link or the back button changed the filter: the form shows it.
  useEffect(() => setDraft(filterFromSearch(shown)), [shown]);
  const [exporting, setExporting] = useState('');
  const path = `/api/entries?${filterToSearch(filter, { limit: String(PAGE), cursor, count: cursor ? undefined : '1' })}`;
  const page = useApi<{ entries: Entry[]; nextCursor?: string; total?: number }>(path);
  const [total, setTotal] = useState<number | null>(null);
  if (page.data?.total !== undefined && page.data.total !== total) setTotal(page.data.total);

  const apply = (event: Event) => {
    event.preventDefault();
    route(`/log?${filterToSearch(draft)}`);
  };
  const set = (key: FilterKey, value: string | undefined) => setDraft({ ...draft, [key]: value });
  const exportAs = async (kind: string) => {
    setExporting(`Preparing the ${kind} export…`);
    try {
      const name = await download(`/api/exports/${kind}?${filterToSearch(filter)}`);
      setExporting(`Downloaded ${name}.`);
    } catch (failure) {
      setExporting(`Export failed: ${errorText(failure)}`);
    }
  };

  return (
    <section>
      <h1>Audit log</h1>
      <form class="filters" onSubmit={apply} aria-label="Filter the log">
        {TEXT_FIELDS.map(({ key, label, hint }) => (
          <label key={key}>
            {label}
            <input name={key} value={draft[key] ?? ''} title={hint} onInput={(event) => set(key, event.currentTarget.value)} />
          </label>
        ))}
        <label>
          Operation
          <select name="op" value={draft.op ?? ''} onChange={(event) => set('op', event.currentTarget.value)}>
            <option value="">any</option>
            {OPS.map((op) => (
              <option key={op} value={op}>
                {op}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="datetime-local" name="from" value={isoToLocalInput(draft.from)} onInput={(event) => set('from', localInputToIso(event.currentTarget.value))} />
        </label>
        <label>
          To
          <input type="datetime-local" name="to" value={isoToLocalInput(draft.to)} onInput={(event) => set('to', localInputToIso(event.currentTarget.value))} />
        </label>
        <div class="actions">
          <button type="submit">Apply filter</button>
          <button type="button" onClick={() => (setDraft({}), route('/log'))}>
            Clear
          </button>
        </div>
      </form>
      <div class="controls" role="group" aria-label="Export this filter">
        <button type="button" onClick={() => void exportAs('entries.csv')}>
          Export CSV
        </button>
        <button type="button" onClick={() => void exportAs('entries.jsonl')}>
          Export JSON lines
        </button>
        <button type="button" onClick={() => void exportAs('report.pdf')}>
          PDF report
        </button>
        <span role="status">{exporting}</span>
      </div>
      {page.error && <p role="alert">{page.error}</p>}
      <p role="status">{page.loading ? 'Loading…' : total !== null ? `${total} entries match.` : ''}</p>
      <DataTable data={page.data?.entries ?? []} columns={entryColumns} caption="Entries, newest first" rowId={(entry) => entry.id} empty="No entry matches this filter." />
      <nav class="pager" aria-label="Pages">
        {cursor && <a href={`/log?${filterToSearch(filter)}`}>First page</a>}
        {page.data?.nextCursor && <a href={`/log?${filterToSearch(filter, { cursor: page.data.nextCursor })}`}>Next page</a>}
      </nav>
    </section>
  );
}
