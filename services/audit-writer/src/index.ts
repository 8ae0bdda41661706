export * from './audit-writer.js';
export * from './retry.js';
