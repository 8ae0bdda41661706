export * from './sql-comment.js';
export * from './sqlcommenter.js';
export * from './actor-config.schema.js';
export * from './statement-actor.js';
