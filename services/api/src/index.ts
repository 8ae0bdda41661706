export * from './api-server.js';
export * from './api-deps.js';
export * from './pipeline-metrics.js';
export * from './entry-filter-params.js';
export { buildApiApp } from './api-app.js';
export { newApiToken, hashApiToken } from './auth/api-token.js';
export type { Principal } from './auth/principal.js';
export { checkBindAddress } from './security/bind-policy.js';
export { parseKey } from './routes/entry-filter-query.js';
