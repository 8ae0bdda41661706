export * from './audit-queries.types.js';
export * from './entry-filter.js';
export * from './log-cursor.js';
export * from './entry-changes.js';
export * from './csv-records.js';
