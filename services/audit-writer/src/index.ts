export * from './audit-writer.js';
export * from './partitioned-writer.js';
