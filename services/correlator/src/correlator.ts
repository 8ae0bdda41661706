import {
  CascadeLinker,
  comparePositions,
  describeError,
  positionOf,
  qualifiedName,
  type AuditedEvent,
  type CascadeLinkStore,
  type ChangeEvent,
  type EntryReader,
  type ForeignKey,
  type LogPosition,
  type Lsn,
} from '@walaudit/core';

export interface CorrelatorDeps {
  links: CascadeLinkStore;
  entries: EntryReader;
  /** Reads the foreign keys from the audited database's catalog. */
  loadForeignKeys: () => Promise<ForeignKey[]>;
  /** Foreign keys are read again at least this often (a new constraint changes no table shape). */
  refreshIntervalMs: number;
  /** See CascadeLinkerOptions.maxTrackedKeys. */
  maxTrackedKeys?: number;
  warn?: (message: string) => void;
  /** Called after links are stored, with how many. */
  onLinked?: (links: number) => void;
}

export interface Correlator {
  /** Reads the foreign keys; call before the first batch. */
  start(): Promise<void>;
  /** The audit writer's observer: links each stored batch, in log order, before the slot may confirm it. */
  observe(stored: readonly AuditedEvent[]): Promise<void>;
  /**
   * Links again what was stored but may not be linked (entries committed at or after `fromLsn`:
   * the slot's confirmed position at a standalone start; in distributed mode the transaction a
   * partition resumes in, its entries only): the writer drops those on replay, so the observer
   * would not see them. What linking remembers starts over from `fromLsn`, so the rest of a
   * transaction whose head was stored before finds its parents. Returns the links stored.
   */
  recover(fromLsn: Lsn, options?: { partition?: number }): Promise<number>;
  readonly foreignKeys: readonly ForeignKey[];
}

/** Cascade links for the stored entries: the catalog's foreign keys, a CascadeLinker, a link store. */
export function createCorrelator(deps: CorrelatorDeps): Correlator {
  let foreignKeys: ForeignKey[] = [];
  let signature = '';
  let loadedAt = 0;
  let overflowWarnedFor: string | null = null;
  // The newest position linked, so entries a recovery already linked are not linked twice.
  let linkedUpTo: LogPosition | null = null;
  const linker = new CascadeLinker([], { maxTrackedKeys: deps.maxTrackedKeys });

  const refresh = async () => {
    const fresh = await deps.loadForeignKeys();
    loadedAt = Date.now();
    const next = JSON.stringify(fresh);
    // Replacing the keys drops the current transaction's memory: only when they really changed.
    if (next === signature) return;
    signature = next;
    foreignKeys = fresh;
    linker.setForeignKeys(fresh);
  };

  const linkAndStore = async (events: readonly ChangeEvent[]) => {
    if (events.length === 0) return 0;
    const links = linker.link(events);
    if (linker.overflowed && overflowWarnedFor !== events.at(-1)?.tx.lsn) {
      overflowWarnedFor = events.at(-1)?.tx.lsn ?? null;
      deps.warn?.(`transaction ${events.at(-1)?.tx.xid} deleted more parent rows than cascade.maxTrackedKeys: later rows of it are not linked to their parent (they stay grouped by xid)`);
    }
    if (links.length > 0) {
      await deps.links.insertLinks(links);
      deps.onLinked?.(links.length);
    }
    linkedUpTo = positionOf(events.at(-1)!.tx);
    return links.length;
  };

  return {
    get foreignKeys() {
      return foreignKeys;
    },
    async start() {
      await refresh();
    },
    async observe(stored) {
      let events = stored.map((audited) => audited.event);
      if (linkedUpTo) {
        const after = linkedUpTo;
        events = events.filter((event) => comparePositions(positionOf(event.tx), after) > 0);
      }
      const schemaChanged = events.some((event) => event.op === 'schema');
      if (schemaChanged || Date.now() - loadedAt > deps.refreshIntervalMs) {
        try {
          await refresh();
        } catch (error) {
          // Old keys still link correctly unless the change touched them; the next batch retries.
          deps.warn?.(`cannot read the foreign keys again, linking with the previous ones: ${describeError(error)}`);
        }
      }
      await linkAndStore(events);
    },
    async recover(fromLsn, options = {}) {
      // Setting the keys again drops the memory of a transaction in progress; linkedUpTo is set
      // again by what is read here.
      linker.setForeignKeys(foreignKeys);
      linkedUpTo = null;
      const tables = new Set<string>();
      for (const fk of foreignKeys) {
        tables.add(qualifiedName(fk.schema, fk.table));
        tables.add(qualifiedName(fk.refSchema, fk.refTable));
      }
      if (tables.size === 0) return 0;
      let linked = 0;
      for await (const page of deps.entries.rowChangesSince(fromLsn, [...tables], options.partition)) linked += await linkAndStore(page);
      return linked;
    },
  };
}
