export * from './foreign-key.types.js';
export * from './cascade-link.types.js';
export * from './cascade-linker.js';
export * from './cascade-store.types.js';
