export * from './api-server.js';
export * from './api-deps.js';
export * from './pipeline-metrics.js';
export * from './log-query.js';
export { buildApiApp } from './api-app.js';
export { newApiToken, hashApiToken } from './auth/api-token.js';
export type { Principal } from './auth/principal.js';
export { checkBindAddress } from './security/bind-policy.js';
export { parseSseChunk, type ParsedSseEvent } from './live/sse-frame.js';
