/**
 * Row values as people read them. The audit trail keeps each value as Postgres prints it (text);
 * the column's type decides how it is shown. Pure: unit-tested beside it.
 */
export type Shown =
  | { kind: 'null' }
  | { kind: 'masked'; text: string }
  | { kind: 'bool'; text: 'yes' | 'no' }
  | { kind: 'tags'; tags: string[] }
  | { kind: 'json'; text: string }
  | { kind: 'time'; text: string; stored: string }
  | { kind: 'text'; text: string };

const TIME_TYPES = new Set(['timestamptz', 'timestamp', 'timestamp with time zone', 'timestamp without time zone']);

/** `{a,"b c",NULL}` into its elements (one dimension; nested arrays stay as text). */
export function parseArrayLiteral(text: string): string[] | null {
  if (!text.startsWith('{') || !text.endsWith('}')) return null;
  const body = text.slice(1, -1);
  if (body === '') return [];
  if (body.includes('{')) return null;
  const items: string[] = [];
  let current = '';
  let quoted = false;
  let wasQuoted = false;
  for (let index = 0; index < body.length; index++) {
    const char = body[index]!;
    if (quoted) {
      if (char === '\\') current += body[++index] ?? '';
      else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') {
      quoted = true;
      wasQuoted = true;
    } else if (char === ',') {
      items.push(!wasQuoted && current === 'NULL' ? '∅' : current);
      current = '';
      wasQuoted = false;
    } else current += char;
  }
  items.push(!wasQuoted && current === 'NULL' ? '∅' : current);
  return items;
}

/** A Postgres timestamp's text as a Date; null when it is not one (infinity, BC dates). */
export function parsePgTimestamp(text: string, type: string): Date | null {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2}(?::?\d{2})?)?$/.exec(text);
  if (!match) return null;
  let zone = match[3] ?? (type.startsWith('timestamp') && !type.includes('with time zone') && type !== 'timestamptz' ? '' : 'Z');
  if (/^[+-]\d{2}$/.test(zone)) zone += ':00';
  const fraction = match[2]!.replace(/(\.\d{3})\d+$/, '$1');
  const date = new Date(`${match[1]}T${fraction}${zone}`);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatTime(date: Date, timeZone?: string): string {
  return date.toLocaleString(undefined, { timeZone, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
}

/** How one stored value is shown, by its column's Postgres type. */
export function showValue(value: string | null | undefined, type: string, timeZone?: string): Shown {
  if (value === null || value === undefined) return { kind: 'null' };
  if (value === '[redacted]' || value.startsWith('hmac-sha256:')) return { kind: 'masked', text: value === '[redacted]' ? 'masked (redacted)' : 'masked (hashed)' };
  if (type === 'bool' || type === 'boolean') return { kind: 'bool', text: value === 't' || value === 'true' ? 'yes' : 'no' };
  if (type.startsWith('_') || type.endsWith('[]')) {
    const tags = parseArrayLiteral(value);
    if (tags) return { kind: 'tags', tags };
  }
  if (type === 'json' || type === 'jsonb') {
    try {
      return { kind: 'json', text: JSON.stringify(JSON.parse(value), null, 2) };
    } catch {
      return { kind: 'text', text: value };
    }
  }
  if (TIME_TYPES.has(type)) {
    // A timestamp without zone is a wall-clock time: shown as stored, not moved into a zone.
    const zoned = type === 'timestamptz' || type === 'timestamp with time zone';
    const date = zoned ? parsePgTimestamp(value, type) : null;
    if (date) return { kind: 'time', text: formatTime(date, timeZone), stored: value };
  }
  return { kind: 'text', text: value };
}

/** A primary key (`{"id":"3"}`) in a line: `id 3`, or `a 1, b 2`. */
export function keyText(key: Record<string, string | null> | null | undefined): string {
  if (!key) return '';
  return Object.entries(key)
    .map(([column, value]) => `${column} ${value ?? 'NULL'}`)
    .join(', ');
}
