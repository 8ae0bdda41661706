// How the bench asks a running walaudit for its status. Builds whose API is under /api need a
// token: the bench writes the local token into the data directory before the start (a start keeps
// the token it finds there), so it knows it. Older builds answer GET /status without one, which
// keeps A/B runs across that change possible (BENCH_CLI_MAIN).
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `<dataDir>/api-token` (mode 0600) and returns the token. */
export function presetLocalToken(dataDir) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const token = `wat_bench_${randomBytes(24).toString('base64url')}`;
  writeFileSync(join(dataDir, 'api-token'), `${token}\n`, { mode: 0o600 });
  return token;
}

/** The status document, or null while nothing answers. */
export async function fetchWalauditStatus(port, token) {
  const get = (path, headers = {}) => fetch(`http://127.0.0.1:${port}${path}`, { headers, signal: AbortSignal.timeout(5_000) });
  try {
    const current = await get('/api/status', token ? { authorization: `Bearer ${token}` } : {});
    if (current.ok) return await current.json();
    if (current.status !== 404) return null;
    const older = await get('/status');
    return older.ok ? await older.json() : null;
  } catch {
    return null;
  }
}
