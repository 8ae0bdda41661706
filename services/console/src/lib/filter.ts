/**
 * The log's filter, kept in the page's URL so a filtered view is a link: the same parameters as
 * GET /api/entries (docs/api.md, "The entry filter"). Pure: unit-tested beside it.
 */
export const FILTER_KEYS = ['table', 'op', 'actor', 'ip', 'application', 'xid', 'from', 'to', 'pk', 'text'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type Filter = Partial<Record<FilterKey, string>>;

export function filterFromSearch(search: string | URLSearchParams): Filter {
  const params = typeof search === 'string' ? new URLSearchParams(search) : search;
  const filter: Filter = {};
  for (const key of FILTER_KEYS) {
    const value = params.getAll(key).join(',').trim();
    if (value) filter[key] = value;
  }
  return filter;
}

/** The filter as a query string (no `?`), keys in a fixed order, empty values left out. */
export function filterToSearch(filter: Filter, extra: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = filter[key]?.trim();
    if (value) params.set(key, value);
  }
  for (const [key, value] of Object.entries(extra)) if (value) params.set(key, value);
  return params.toString();
}

/** An ISO time as a `datetime-local` input's value, in the viewer's zone. */
export function isoToLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A `datetime-local` value (viewer's zone) as ISO UTC, what the API takes. */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace('.000Z', 'Z');
}
