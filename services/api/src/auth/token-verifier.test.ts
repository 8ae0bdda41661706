import { describe, expect, it } from 'vitest';
import type { ApiTokenInfo, ApiTokenStore } from '@walaudit/core';
import { newApiToken } from './api-token.js';
import { createTokenVerifier } from './token-verifier.js';

/** One token table, as every API process sharing a ClickHouse server reads it. */
class SharedTokens implements ApiTokenStore {
  private readonly rows = new Map<string, ApiTokenInfo & { hash: string }>();
  lookups = 0;
  async create(token: { id: string; name: string; role: 'viewer' | 'manager'; hash: string; createdBy: string }) {
    const info = { id: token.id, name: token.name, role: token.role, createdAt: new Date().toISOString(), createdBy: token.createdBy };
    this.rows.set(token.id, { ...info, hash: token.hash });
    return info;
  }
  async findByHash(hash: string) {
    this.lookups++;
    return [...this.rows.values()].find((row) => row.hash === hash && !row.revokedAt) ?? null;
  }
  async list() {
    return [...this.rows.values()];
  }
  async revoke(id: string, by: string) {
    const row = this.rows.get(id);
    if (!row) return null;
    row.revokedAt ??= new Date().toISOString();
    row.revokedBy ??= by;
    return row;
  }
}

describe('token verifier', () => {
  it('a token revoked through one process is refused by another sharing the store within a second', async () => {
    const store = new SharedTokens();
    const here = createTokenVerifier({ store });
    const there = createTokenVerifier({ store });
    const { token, id, hash } = newApiToken();
    await store.create({ id, name: 'grafana', role: 'viewer', hash, createdBy: 'test' });
    expect(await there.verify(token)).toMatchObject({ name: 'grafana', role: 'viewer', via: 'token' });

    await store.revoke(id, 'dba');
    here.forget();
    expect(await here.verify(token)).toBeNull();
    const revokedAt = Date.now();
    while ((await there.verify(token)) !== null) {
      expect(Date.now() - revokedAt).toBeLessThan(1_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The cache spares the store most lookups meanwhile: one per token per half second.
    expect(store.lookups).toBeLessThan(10);
  });
});
