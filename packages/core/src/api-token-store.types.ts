/** What a principal of the HTTP API may do: viewers read, export and acknowledge; managers also change things. */
export type ApiRole = 'viewer' | 'manager';

export const API_ROLES: readonly ApiRole[] = ['viewer', 'manager'];

/** Whether `held` allows what `needed` guards: a manager may do everything a viewer may. */
export function roleAllows(held: ApiRole, needed: ApiRole): boolean {
  return API_ROLES.indexOf(held) >= API_ROLES.indexOf(needed);
}

/** An API token as listed: never the token itself, which is shown once at creation. */
export interface ApiTokenInfo {
  /** 12 hex digits; names the token in lists and in `DELETE /api/tokens/:id`. */
  id: string;
  /** What the token is for, for people (`grafana`, `dana's laptop`). */
  name: string;
  role: ApiRole;
  createdAt: string;
  createdBy: string;
  /** Set once revoked; a revoked token is refused. */
  revokedAt?: string;
  revokedBy?: string;
}

/**
 * Where API tokens are kept so that every API process sees the same ones: only the SHA-256 of each
 * token, hex. Revocations are immediate for every reader of the store.
 */
export interface ApiTokenStore {
  create(token: { id: string; name: string; role: ApiRole; hash: string; createdBy: string }): Promise<ApiTokenInfo>;
  /** The live (not revoked) token with this hash, with the hash it was stored under; null when none. */
  findByHash(hash: string): Promise<(ApiTokenInfo & { hash: string }) | null>;
  /** Every token, newest first, revoked ones included. */
  list(): Promise<ApiTokenInfo[]>;
  /** Revokes it; null when no token has this id. Revoking twice keeps the first revocation. */
  revoke(id: string, by: string): Promise<ApiTokenInfo | null>;
}
