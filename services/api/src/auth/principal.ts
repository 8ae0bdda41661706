import type { ApiRole } from '@walaudit/core';

/** Who a request comes from, once authenticated. */
export interface Principal {
  /** The token's name, the proxy's user, or `local` for the token `walaudit start` wrote. */
  name: string;
  role: ApiRole;
  via: 'token' | 'local-token' | 'proxy';
  /** Id of the API token used, when one was. */
  tokenId?: string;
}

/** What a route needs: `public` routes answer anyone (only /health, and /metrics or the docs when configured). */
export type RouteRole = ApiRole | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The role the route needs; enforced by the auth hook (auth-hook.ts). Unset means viewer. */
    role?: RouteRole;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}
