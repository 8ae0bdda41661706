/** `HH:MM-HH:MM` in UTC; a range past midnight (22:00-06:00) wraps. Empty: never quiet. */
export function inQuietHours(spec: string, at: Date): boolean {
  if (spec === '') return false;
  const [from, to] = spec.split('-').map(minutesOf) as [number, number];
  const now = at.getUTCHours() * 60 + at.getUTCMinutes();
  if (from === to) return false;
  return from < to ? now >= from && now < to : now >= from || now < to;
}

function minutesOf(hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number) as [number, number];
  return hours * 60 + minutes;
}
