import { API_ROLES, WalauditError, type ApiTokenStore } from '@walaudit/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiServerDeps } from '../api-deps.js';
import { newApiToken } from '../auth/api-token.js';
import { principalOf } from '../auth/auth-hook.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { tokenCreated, tokenList, tokenRevoked } from './process-schemas.js';

function tokensOf(deps: ApiServerDeps): ApiTokenStore {
  if (!deps.tokens) throw new WalauditError('STORE_NOT_FOUND', 'API tokens are kept in the store, and this process holds none (a distributed reader): manage tokens on a writer');
  return deps.tokens;
}

function recorderOf(deps: ApiServerDeps): NonNullable<ApiServerDeps['recordAction']> {
  if (!deps.recordAction) throw new WalauditError('CONFIG_INVALID', 'token changes are recorded in the audited database: give this process source.url (DATABASE_URL)');
  return deps.recordAction;
}

/** API tokens: managers create (the token is in that answer only), list (never the token) and revoke. */
export const tokensRoutes: FastifyPluginAsyncZod<{ deps: ApiServerDeps; verifier: TokenVerifier }> = async (app, { deps, verifier }) => {
  app.post(
    '/api/tokens',
    { schema: { tags: ['tokens'], summary: 'Creates a token; the answer is the only place it is ever shown', body: z.object({ name: z.string().trim().min(1).max(200).describe('What the token is for'), role: z.enum(API_ROLES as ['viewer', 'manager']) }), response: { 201: tokenCreated } }, config: { role: 'manager' } },
    async (request, reply) => {
      const principal = principalOf(request);
      const tokens = tokensOf(deps);
      const record = recorderOf(deps);
      const { token, id, hash } = newApiToken();
      await record({ name: 'api-token.create', by: principal.name, role: principal.role, token: id, tokenName: request.body.name, tokenRole: request.body.role });
      const info = await tokens.create({ id, name: request.body.name, role: request.body.role, hash, createdBy: principal.name });
      deps.log?.info(`API token ${id} (${info.name}, ${info.role}) created by ${principal.name}`);
      return reply.code(201).send({ token, ...info });
    },
  );
  app.get('/api/tokens', { schema: { tags: ['tokens'], summary: 'Every token, revoked ones too; never the token itself', response: { 200: tokenList } }, config: { role: 'manager' } }, async () => ({ tokens: await tokensOf(deps).list() }));
  app.delete('/api/tokens/:id', { schema: { tags: ['tokens'], summary: 'Revokes a token: refused by every API process within a second', params: z.object({ id: z.string().regex(/^[0-9a-f]{12}$/, 'a token id is 12 hex digits (GET /api/tokens)') }), response: { 200: tokenRevoked } }, config: { role: 'manager' } }, async (request) => {
    const principal = principalOf(request);
    const tokens = tokensOf(deps);
    const existing = (await tokens.list()).find((token) => token.id === request.params.id);
    if (!existing) throw new WalauditError('API_NOT_FOUND', `no API token has id ${request.params.id} (GET /api/tokens lists them)`);
    if (!existing.revokedAt) await recorderOf(deps)({ name: 'api-token.revoke', by: principal.name, role: principal.role, token: existing.id, tokenName: existing.name, tokenRole: existing.role });
    const revoked = await tokens.revoke(request.params.id, principal.name);
    verifier.forget();
    deps.log?.info(`API token ${request.params.id} revoked by ${principal.name}`);
    return { token: revoked };
  });
};
