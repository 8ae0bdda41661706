export * from './restore.types.js';
export * from './restore-order.js';
export * from './restore-plan.js';
