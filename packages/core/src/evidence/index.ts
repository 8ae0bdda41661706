export * from './merkle.js';
export * from './signed-note.js';
export * from './checkpoint.js';
export * from './entry-ref.js';
export * from './chain-trees.js';
export * from './checkpoint-audit.js';
export * from './resume-check.js';
export * from './proofs.js';
