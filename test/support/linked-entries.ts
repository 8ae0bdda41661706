import { linkEachIntoChains, type AuditedEvent, type AuditEntry } from '@walaudit/core';

export interface LinkedEntries {
  entries: AuditEntry[];
  /** `bodies[i]`: the canonical encoding `entries[i]`'s hash covers. */
  bodies: string[];
  /** The chain heads after the entries. */
  heads: Map<number, string>;
}

/**
 * Links events into their chains as the audit writer does (linkEachIntoChains), keeping the
 * entries and bodies it hands over so a test can look at them or insert them.
 */
export function linkedEntries(heads: ReadonlyMap<number, string>, events: readonly AuditedEvent[], partition = 0): LinkedEntries {
  const entries: AuditEntry[] = [];
  const bodies: string[] = [];
  const next = linkEachIntoChains(heads, events, (entry, body) => {
    entries.push(entry);
    bodies.push(body);
  }, partition);
  return { entries, bodies, heads: next };
}
