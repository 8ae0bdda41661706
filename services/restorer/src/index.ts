export * from './restore-runner.js';
export * from './restore-report.js';
export * from './restore-sql.js';
