import type { Actor, AppContext, DbContext } from '../change-event.types.js';
import type { ActorTagOptions } from './actor-config.schema.js';
import { readStatementTags, type StatementTags, type TagsRefusal } from './sqlcommenter.js';

/**
 * The actor of one statement: its trigger's context, the transaction's withAuditContext, and the
 * tags of the statement's own comment. Built anew for every statement, so tags never outlive the
 * statement that carried them (a pooler hands the session to someone else between transactions).
 */
export function statementActor(db: DbContext, app: AppContext | undefined, options: ActorTagOptions, refused?: (why: TagsRefusal) => void): Actor {
  const outcome = readStatementTags(db, options.limits);
  const tags = 'tags' in outcome ? outcome.tags : undefined;
  if ('none' in outcome && outcome.none !== 'no-comment') refused?.(outcome.none);
  return actorWith(app, db, tags, options.appUserFromTags);
}

/** The actor once withAuditContext spoke: its user wins over any tag's. */
export function actorWithApp(actor: Actor, app: AppContext, options: ActorTagOptions): Actor {
  const tags = actor.tags === undefined ? undefined : ({ tags: actor.tags, traceId: actor.traceId, spanId: actor.spanId } as StatementTags);
  return actorWith(app, actor.db, tags, options.appUserFromTags);
}

function actorWith(app: AppContext | undefined, db: DbContext | undefined, tags: StatementTags | undefined, appUserFromTags: readonly string[]): Actor {
  const actor: Actor = {};
  const named = appUserFromTag(app, tags, appUserFromTags);
  if (named) actor.app = named;
  if (db !== undefined) actor.db = db;
  if (tags) {
    actor.tags = tags.tags;
    if (tags.traceId !== undefined) actor.traceId = tags.traceId;
    if (tags.spanId !== undefined) actor.spanId = tags.spanId;
  }
  return actor;
}

/** withAuditContext's user, else the first mapped tag's value, else none. */
function appUserFromTag(app: AppContext | undefined, tags: StatementTags | undefined, keys: readonly string[]): AppContext | undefined {
  if (!tags || keys.length === 0 || (app?.user !== undefined && app.user !== null && app.user !== '')) return app;
  for (const key of keys) {
    const value = Object.prototype.hasOwnProperty.call(tags.tags, key) ? tags.tags[key] : undefined;
    if (value !== undefined && value !== '') return { ...app, user: value, userFromTag: key };
  }
  return app;
}
