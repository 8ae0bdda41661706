import type { ApiTokenStore } from '@walaudit/core';
import { hashApiToken, sameHash } from './api-token.js';
import type { Principal } from './principal.js';

/** How long a lookup is reused: a revocation made by another process takes effect within this. */
const CACHE_MS = 500;

export interface TokenVerifier {
  /** The principal of a bearer token; null when it is unknown or revoked. */
  verify(token: string): Promise<Principal | null>;
  /** Forgets cached lookups, so a revocation made here takes effect at once. */
  forget(): void;
}

/**
 * Tokens are looked up by hash in the store every API process shares; the local token of
 * `walaudit start` (a file in the data directory) is known to this process only, so it works
 * even where no store is held (a distributed reader).
 */
export function createTokenVerifier(options: { store?: ApiTokenStore; localTokenHash?: string }): TokenVerifier {
  const cache = new Map<string, { principal: Principal | null; until: number }>();
  return {
    async verify(token) {
      const hash = hashApiToken(token);
      if (options.localTokenHash && sameHash(hash, options.localTokenHash)) return { name: 'local', role: 'manager', via: 'local-token' };
      if (!options.store) return null;
      const now = Date.now();
      const cached = cache.get(hash);
      if (cached && cached.until > now) return cached.principal;
      const found = await options.store.findByHash(hash);
      // The store matched on the hash; compared again here in constant time.
      const principal: Principal | null = found && sameHash(found.hash, hash) ? { name: found.name, role: found.role, via: 'token', tokenId: found.id } : null;
      if (cache.size > 10_000) cache.clear();
      cache.set(hash, { principal, until: now + CACHE_MS });
      return principal;
    },
    forget: () => cache.clear(),
  };
}
