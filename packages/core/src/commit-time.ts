/** Unix microseconds to ISO 8601 with all six fractional digits (a JS Date keeps only three). */
export function microsToIso(micros: bigint): string {
  const millis = micros / 1000n;
  const extra = Number(((micros % 1000n) + 1000n) % 1000n);
  const iso = new Date(Number(millis)).toISOString();
  return `${iso.slice(0, -1)}${String(extra).padStart(3, '0')}Z`;
}
