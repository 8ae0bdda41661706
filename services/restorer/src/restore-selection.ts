import { WalauditError, type AuditEntry, type CascadeLinkStore, type EntryReader, type RestoreRequest, type RestoreSelection } from '@walaudit/core';

/**
 * Reads the entries a request covers. Refuses a request that names the wrong kind of entry. Every
 * delete of the selection goes through `onDeletes` once before this resolves: a root's cascade in
 * pages as they are read (the restore checks them against Postgres meanwhile), others at once.
 */
export async function selectEntries(request: RestoreRequest, entries: EntryReader, links: CascadeLinkStore, onDeletes: (page: AuditEntry[]) => void = () => undefined): Promise<RestoreSelection> {
  switch (request.kind) {
    case 'entry': {
      const entry = await oneEntry(entries, request.entryId, 'delete');
      onDeletes([entry]);
      return { deletes: [entry], nullings: [], reverts: [] };
    }
    case 'revert':
      return { deletes: [], nullings: [], reverts: [await oneEntry(entries, request.entryId, 'update')] };
    case 'cascade': {
      const root = await oneEntry(entries, request.entryId, 'delete');
      onDeletes([root]);
      const whole = await links.rootCascade(root, onDeletes);
      if (whole) {
        const setNullEntries = new Map((await entries.entriesByIds(whole.setNull.map((l) => l.entryId))).map((e) => [e.id, e]));
        const nullings = whole.setNull.map((link) => ({ entry: setNullEntries.get(link.entryId)!, link })).filter((n) => n.entry);
        if (nullings.length < whole.setNull.length) throw missingEntry(whole.setNull.find((l) => !setNullEntries.has(l.entryId))!.entryId, root.tx.xid);
        return { deletes: [root, ...whole.deletes], nullings, reverts: [] };
      }
      const caused = await links.linksCausedBy(root.id);
      const found = new Map((await entries.entriesByIds(caused.map((l) => l.entryId))).map((e) => [e.id, e]));
      const deletes = [root];
      const nullings: RestoreSelection['nullings'] = [];
      for (const link of caused) {
        const entry = found.get(link.entryId);
        if (!entry) throw missingEntry(link.entryId, root.tx.xid);
        if (link.kind === 'cascade') deletes.push(entry);
        else nullings.push({ entry, link });
      }
      if (deletes.length > 1) onDeletes(deletes.slice(1));
      return { deletes, nullings, reverts: [] };
    }
    case 'tx': {
      const changes = await entries.rowChangesOfTransaction(request.xid, { updates: true });
      const deletes = changes.filter((e) => e.op === 'delete');
      if (deletes.length === 0) throw new WalauditError('CONFIG_INVALID', `transaction ${request.xid} deleted no audited row (see walaudit log --xid ${request.xid})`);
      onDeletes(deletes);
      const setNull = new Map((await links.linksOfTransaction(request.xid)).filter((l) => l.kind === 'set-null').map((l) => [l.entryId, l]));
      const nullings = changes.filter((e) => e.op === 'update' && setNull.has(e.id)).map((entry) => ({ entry, link: setNull.get(entry.id)! }));
      return { deletes, nullings, reverts: [] };
    }
  }
}

/** Refuses a request naming a missing entry or the wrong kind of entry, before it becomes a job. */
export async function checkRequest(request: RestoreRequest, entries: EntryReader): Promise<void> {
  if (request.kind === 'tx') return;
  await oneEntry(entries, request.entryId, request.kind === 'revert' ? 'update' : 'delete');
}

function missingEntry(id: string, xid: number): WalauditError {
  return new WalauditError('STORE_QUERY_FAILED', `a cascade link names entry ${id}, but the audit log no longer has it (expired by retention?): restore the rest with --tx ${xid}`);
}

async function oneEntry(entries: EntryReader, id: string, op: 'delete' | 'update'): Promise<AuditEntry> {
  const [entry] = await entries.entriesByIds([id]);
  if (!entry) throw new WalauditError('CONFIG_INVALID', `no audit entry has id ${id} (ids look like 00000000019C3E28-0; see walaudit log)`);
  if (entry.op !== op) {
    const hint = entry.op === 'update' ? 'use --revert to put an updated row back' : entry.op === 'delete' ? 'give it without --revert' : 'only deletes and updates can be restored';
    throw new WalauditError('CONFIG_INVALID', `entry ${id} is ${entry.op === 'insert' ? 'an' : 'a'} ${entry.op} of ${entry.schema}.${entry.table}: ${hint}`);
  }
  if (!entry.before) throw new WalauditError('CONFIG_INVALID', `entry ${id} has no old row image (the table lacked REPLICA IDENTITY FULL then): it cannot be restored`);
  return entry;
}
