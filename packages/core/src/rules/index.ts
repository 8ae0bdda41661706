export * from './rule-change.types.js';
export * from './rule-overrides.js';
export * from './live-rules.js';
