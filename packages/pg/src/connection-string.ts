/**
 * The connection string as node-postgres should read it: with libpq's meaning of `sslmode`, which
 * is what a DBA writes it for. pg 8 otherwise takes `require`, `prefer` and `verify-ca` as
 * `verify-full` (a `require` against a self-signed server then fails) and prints a ten-line
 * security warning on the first connection. libpq's meanings: `require` encrypts without checking
 * the certificate, `verify-ca` checks the chain (`sslrootcert`), `verify-full` also the host name.
 */
export function libpqConnectionString(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url; // the driver reports it; config validation names it first
  }
  if (!parsed.searchParams.has('sslmode') || parsed.searchParams.has('uselibpqcompat')) return url;
  parsed.searchParams.set('uselibpqcompat', 'true');
  return parsed.toString();
}
