import type { AuditedEvent } from '../audit-rule.js';
import { resolveAlertActor } from './alert-actor.js';
import { ALERT_SAMPLE_LIMIT, type AlertActor } from './alert.types.js';
import { windowKey, windowOwner, type AlertPolicy, type TableAlertPolicy } from './alert-policy.js';
import type { Actor, RowImage } from '../change-event.types.js';
import type { WindowDeletion } from './window-state.js';

/** One actor's deletions on one table within one transaction of a stored batch. */
export interface DeletionTally {
  actor: AlertActor;
  /** Window key: the actor's name and the table group. */
  windowKey: string;
  policy: TableAlertPolicy;
  deletion: WindowDeletion;
  /** `<16 hex commit LSN>`: with the table, names a critical-table alert. */
  commitLsnKey: string;
  /** Primary keys of the first rows (critical tables only), at most 20. */
  keys: RowImage[];
}

/**
 * Turns a stored batch into tallies, one per run of deletions by one actor on one table in one
 * transaction: a 100k-row DELETE becomes one tally per batch, not 100k. Excluded actors, other
 * operations, and truncates (unless configured) are left out.
 */
export function tallyDeletions(stored: readonly AuditedEvent[], policy: AlertPolicy): DeletionTally[] {
  if (!policy.enabled) return [];
  const tallies: DeletionTally[] = [];
  let current: DeletionTally | null = null;
  let lastActor: Actor | null = null;
  let lastResolved: AlertActor | null = null;
  for (const { event, critical } of stored) {
    const truncate = event.op === 'truncate';
    if (event.op !== 'delete' && !(truncate && policy.countsTruncate)) continue;
    // Every event of a statement shares its actor object: resolve it once.
    const actor: AlertActor = event.actor === lastActor && lastResolved ? lastResolved : resolveAlertActor(event.actor);
    lastActor = event.actor;
    lastResolved = actor;
    if (policy.excluded(actor)) continue;
    const table = `${event.schema}.${event.table}`;
    const dash = event.id.lastIndexOf('-');
    if (current && current.deletion.xid === event.tx.xid && current.deletion.table === table && current.actor.name === actor.name && current.actor.traceId === actor.traceId && !truncate && !current.deletion.allRows) {
      current.deletion.rows++;
      current.deletion.lastEntryId = event.id;
      if (current.policy.critical && current.keys.length < ALERT_SAMPLE_LIMIT && event.pk) current.keys.push(event.pk);
      continue;
    }
    const tablePolicy = policy.forTable(event.schema, event.table, critical);
    current = {
      actor,
      windowKey: windowKey(windowOwner(actor, policy.countBy), tablePolicy.group),
      policy: tablePolicy,
      deletion: {
        atMs: Date.parse(event.tx.commitTime),
        commitTime: event.tx.commitTime,
        table,
        rows: truncate ? 0 : 1,
        allRows: truncate,
        xid: event.tx.xid,
        firstEntryId: event.id,
        lastEntryId: event.id,
      },
      commitLsnKey: event.id.slice(0, dash),
      keys: tablePolicy.critical && event.pk ? [event.pk] : [],
    };
    tallies.push(current);
  }
  return tallies;
}
