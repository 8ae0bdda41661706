import { WalauditError, type ApiRole, type ApiTokenInfo, type ApiTokenStore } from '@walaudit/core';
import type { ClickHouseStore } from './clickhouse-store.js';

interface TokenRow {
  id: string;
  name: string;
  role: string;
  token_hash: string;
  created_at: string;
  created_by: string;
  revoked_at: string;
  revoked_by: string;
}

/** ClickHouse DateTime64 text from ISO 8601 (UTC). */
function chTime(iso: string): string {
  return iso.replace('T', ' ').replace('Z', '');
}

function toInfo(row: TokenRow): ApiTokenInfo {
  return {
    id: row.id,
    name: row.name,
    role: row.role as ApiRole,
    createdAt: row.created_at,
    createdBy: row.created_by,
    ...(row.revoked_at ? { revokedAt: row.revoked_at, revokedBy: row.revoked_by } : {}),
  };
}

/** The api_tokens table (schemas/clickhouse/0006_api_tokens.sql) of an opened, migrated store. */
export function createClickHouseApiTokenStore(store: ClickHouseStore): ApiTokenStore {
  const tokens = store.table('api_tokens');
  const iso = (column: string) => `formatDateTime(${column}, '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC')`;
  // One row per token: its creation, and its first revocation when there is one.
  const select = (where: string, params: Record<string, unknown>) =>
    store.select<TokenRow>(
      `SELECT id, anyIf(name, event = 'created') AS name, anyIf(role, event = 'created') AS role,
              anyIf(token_hash, event = 'created') AS token_hash,
              ${iso("minIf(changed_at, event = 'created')")} AS created_at, argMinIf(changed_by, changed_at, event = 'created') AS created_by,
              if(countIf(event = 'revoked') > 0, ${iso("minIf(changed_at, event = 'revoked')")}, '') AS revoked_at,
              argMinIf(changed_by, changed_at, event = 'revoked') AS revoked_by
       FROM ${tokens} ${where}
       GROUP BY id HAVING countIf(event = 'created') > 0
       ORDER BY created_at DESC, id`,
      params,
    );

  return {
    async create({ id, name, role, hash, createdBy }) {
      if (!/^[0-9a-f]{64}$/.test(hash)) throw new WalauditError('INTERNAL', 'an API token is stored as its SHA-256 in hex, never in clear');
      const at = new Date().toISOString();
      await store.insertRows('api_tokens', [{ id, event: 'created', name, role, token_hash: hash, changed_at: chTime(at), changed_by: createdBy }]);
      return { id, name, role, createdAt: at, createdBy };
    },
    async findByHash(hash) {
      const [row] = await select(`WHERE id IN (SELECT id FROM ${tokens} WHERE event = 'created' AND token_hash = {hash:String})`, { hash });
      if (!row || row.revoked_at) return null;
      return { ...toInfo(row), hash: row.token_hash };
    },
    async list() {
      return (await select('', {})).map(toInfo);
    },
    async revoke(id, by) {
      const [row] = await select('WHERE id = {id:String}', { id });
      if (!row) return null;
      if (row.revoked_at) return toInfo(row);
      const at = new Date().toISOString();
      await store.insertRows('api_tokens', [{ id, event: 'revoked', name: '', role: row.role, token_hash: '', changed_at: chTime(at), changed_by: by }]);
      return { ...toInfo(row), revokedAt: at, revokedBy: by };
    },
  };
}
