export * from './api-server.js';
export * from './pipeline-metrics.js';
export * from './alerts-routes.js';
