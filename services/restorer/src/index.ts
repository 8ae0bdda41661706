export * from './restore-runner.js';
export * from './restore-report.js';
export * from './restore-sql.js';
export * from './restore-jobs.js';
export * from './bullmq-restore-queue.js';
export { checkRequest } from './restore-selection.js';
