/** Unix microseconds to ISO 8601 with all six fractional digits (a JS Date keeps only three). */
export function microsToIso(micros: bigint): string {
  const extra = Number(((micros % 1000n) + 1000n) % 1000n);
  // Floor division (BigInt `/` truncates toward zero), so millis and extra agree before 1970 too.
  const millis = (micros - BigInt(extra)) / 1000n;
  const iso = new Date(Number(millis)).toISOString();
  return `${iso.slice(0, -1)}${String(extra).padStart(3, '0')}Z`;
}
