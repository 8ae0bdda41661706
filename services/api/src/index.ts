export * from './api-server.js';
export * from './pipeline-metrics.js';
