import type { Actor } from '../change-event.types.js';
import type { AlertActor } from './alert.types.js';
import { globMatches } from '../glob.js';

/** The application's user when it sent one (withAuditContext), else the session's database user. */
export function resolveAlertActor(actor: Actor): AlertActor {
  const appUser = nonEmpty(actor.app?.user);
  const dbUser = nonEmpty(actor.db?.user);
  return {
    name: appUser ?? dbUser ?? 'unknown',
    appUser,
    dbUser,
    ip: nonEmpty(actor.db?.ip) ?? nonEmpty(actor.app?.ip),
    applicationName: nonEmpty(actor.db?.applicationName),
    traceId: nonEmpty(actor.traceId),
  };
}

/** An excluded actor pattern matches the app user or the db user (`*` is a wildcard). */
export function actorExcluded(actor: AlertActor, patterns: readonly string[]): boolean {
  return patterns.some(
    (pattern) => (actor.appUser !== null && globMatches(pattern, actor.appUser)) || (actor.dbUser !== null && globMatches(pattern, actor.dbUser)),
  );
}

function nonEmpty(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const text = typeof value === 'string' ? value : String(value);
  return text === '' ? null : text;
}
