import { tableMatches } from '../audit-rule.js';
import { actorExcluded } from './alert-actor.js';
import type { Alert, AlertActor } from './alert.types.js';
import type { AlertsConfig } from './alerts-config.schema.js';
import type { WindowRule } from './window-state.js';

/** How deletions on one table are judged: which window they count in, and whether each one alerts. */
export interface TableAlertPolicy {
  /** `default`, or `tables.<i>` for the per-table override that matched: each has its own window. */
  group: string;
  rule: WindowRule;
  critical: boolean;
}

export interface AlertPolicy {
  enabled: boolean;
  countsTruncate: boolean;
  /** See alerts.countBy. */
  countBy: 'actor' | 'trace';
  forTable(schema: string, table: string, ruleCritical: boolean): TableAlertPolicy;
  excluded(actor: AlertActor): boolean;
}

export function createAlertPolicy(config: AlertsConfig): AlertPolicy {
  const cache = new Map<string, Omit<TableAlertPolicy, 'critical'> & { critical: boolean | undefined }>();
  const defaults = { threshold: config.threshold, windowMs: config.windowMinutes * 60_000 };
  return {
    enabled: config.enabled,
    countsTruncate: config.operations.includes('truncate'),
    countBy: config.countBy,
    forTable(schema, table, ruleCritical) {
      const name = `${schema}.${table}`;
      let found = cache.get(name);
      if (!found) {
        const index = config.tables.findIndex((override) => override.tables.some((pattern) => tableMatches(pattern, schema, table)));
        const override = index >= 0 ? config.tables[index]! : undefined;
        found = {
          group: override ? `tables.${index}` : 'default',
          rule: {
            threshold: override?.threshold ?? defaults.threshold,
            windowMs: override?.windowMinutes !== undefined ? override.windowMinutes * 60_000 : defaults.windowMs,
          },
          critical: override?.critical,
        };
        cache.set(name, found);
      }
      return { group: found.group, rule: found.rule, critical: found.critical ?? ruleCritical };
    },
    excluded: (actor) => actorExcluded(actor, config.excludeActors),
  };
}

/** Whose deletions one window counts: the actor's name, or with countBy `trace` the actor's trace when it has one. */
export function windowOwner(actor: AlertActor, countBy: AlertPolicy['countBy']): string {
  return countBy === 'trace' && actor.traceId ? `trace ${actor.traceId}` : actor.name;
}

/** The window of one actor (or trace, see windowOwner) and table group (see TableAlertPolicy.group). */
export function windowKey(actorName: string, group: string): string {
  return `${actorName}\u0000${group}`;
}

/**
 * The window a bulk-delete alert counts in, from the alert alone (its actor and its first table's
 * group), so any alerter instance can release it when acknowledged. Null for other alerts.
 */
export function alertWindowKey(alert: Alert, policy: AlertPolicy): string | null {
  if (alert.kind !== 'bulk-delete' || alert.tables.length === 0) return null;
  const qualified = alert.tables[0]!.table;
  const dot = qualified.indexOf('.');
  return windowKey(windowOwner(alert.actor, policy.countBy), policy.forTable(qualified.slice(0, dot), qualified.slice(dot + 1), false).group);
}
