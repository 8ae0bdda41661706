import { useRoute } from 'preact-iso';
import { formatTime, keyText } from '../lib/format';
import { useIsManager } from '../lib/me';
import type { CascadeLink, EntryDetail } from '../lib/types';
import { useApi } from '../lib/use-api';
import { RestorePanel } from '../parts/restore-panel';
import { RuleButtons } from '../parts/rule-buttons';
import { Value } from '../parts/value';

function LinkTo({ link, label }: { link: CascadeLink; label?: string }) {
  return (
    <a href={`/entries/${link.entryId}`}>
      {label ?? `${link.schema}.${link.table} ${keyText(link.key)}`} ({link.kind === 'cascade' ? 'deleted by cascade' : 'set to NULL'}, {link.constraint})
    </a>
  );
}

/** One entry as people read it: what changed, who did it, where it sits, and whether its hash holds. */
export function EntryPage() {
  const { params } = useRoute();
  const id = params.id!;
  const manager = useIsManager();
  const { data, error } = useApi<EntryDetail>(`/api/entries/${encodeURIComponent(id)}`);
  if (error) return <p role="alert">{error}</p>;
  if (!data) return <p role="status">Loading entry {id}…</p>;
  const { entry, changes, cascadeParent, cascadeChildren, cascadeChildCount, chain } = data;
  const table = `${entry.schema}.${entry.table}`;
  const types = new Map(entry.columns.map((column) => [column.name, column.type]));
  const row = entry.op === 'delete' ? entry.before : (entry.after ?? entry.before);
  const app = entry.actor.app ?? {};
  const db = entry.actor.db;
  const restoreKinds = entry.op === 'delete' ? (cascadeChildCount > 0 ? (['cascade', 'entry'] as const) : (['entry'] as const)) : entry.op === 'update' ? (['revert'] as const) : [];

  return (
    <article>
      <h1>
        <span class={`op op-${entry.op}`}>{entry.op}</span> {entry.table ? table : (entry.action?.name ?? '')} {keyText(entry.pk)}
      </h1>
      <p>
        Entry <code>{entry.id}</code>, committed <time title={entry.tx.commitTime}>{formatTime(new Date(entry.tx.commitTime))}</time> in transaction{' '}
        <a href={`/transactions/${entry.tx.xid}`}>{entry.tx.xid}</a>
        {entry.critical ? ', on a critical table' : ''}.
      </p>
      <p class="links">
        {entry.pk && entry.table && <a href={`/history?table=${encodeURIComponent(table)}&pk=${encodeURIComponent(JSON.stringify(entry.pk))}`}>This row's whole history</a>}
        <a href={`/log?xid=${entry.tx.xid}`}>Every entry of this transaction</a>
      </p>

      <section aria-labelledby="who-title">
        <h2 id="who-title">Who, from where</h2>
        <dl class="facts">
          <dt>Application user</dt>
          <dd>{app.user ?? 'not given'}</dd>
          <dt>Database user</dt>
          <dd>{db?.user ?? 'unknown'}</dd>
          <dt>Client IP</dt>
          <dd>{db?.ip ?? app.ip ?? 'unknown'}</dd>
          <dt>Application</dt>
          <dd>{db?.applicationName || 'unknown'}</dd>
          {app.reason && (
            <>
              <dt>Reason</dt>
              <dd>{app.reason}</dd>
            </>
          )}
          <dt>Statement</dt>
          <dd>{db?.statement ? <pre>{db.statement}</pre> : 'not recorded'}</dd>
        </dl>
      </section>

      {entry.op === 'update' && changes.length > 0 && (
        <section aria-labelledby="diff-title">
          <h2 id="diff-title">What the update changed</h2>
          <table>
            <caption>Changed columns</caption>
            <thead>
              <tr>
                <th scope="col">Column</th>
                <th scope="col">Before</th>
                <th scope="col">After</th>
              </tr>
            </thead>
            <tbody>
              {changes.map((change) => (
                <tr key={change.column}>
                  <th scope="row">{change.column}</th>
                  <td class="before">
                    <Value value={change.before} type={types.get(change.column) ?? 'text'} />
                  </td>
                  <td class="after">
                    <Value value={change.after} type={types.get(change.column) ?? 'text'} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      {row && (
        <section aria-labelledby="snapshot-title">
          <h2 id="snapshot-title">{entry.op === 'delete' ? 'The row as it was deleted' : 'The row after the change'}</h2>
          <table class="snapshot" data-testid="snapshot">
            <caption>Snapshot of {table}</caption>
            <tbody>
              {entry.columns.map((column) => (
                <tr key={column.name}>
                  <th scope="row">
                    {column.name} <span class="type">{column.type}</span>
                  </th>
                  <td>
                    <Value value={row[column.name]} type={column.type} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      {(cascadeParent || cascadeChildCount > 0) && (
        <section aria-labelledby="cascade-title">
          <h2 id="cascade-title">Cascade</h2>
          {cascadeParent && (
            <p>
              Caused by the deletion of{' '}
              <a href={`/entries/${cascadeParent.parentEntryId}`}>
                {cascadeParent.parentSchema}.{cascadeParent.parentTable} {keyText(cascadeParent.parentKey)}
              </a>{' '}
              (foreign key {cascadeParent.constraint}).
            </p>
          )}
          {cascadeChildCount > 0 && (
            <>
              <p>Its deletion changed {cascadeChildCount} other row(s) directly:</p>
              <ul>
                {cascadeChildren.map((child) => (
                  <li key={child.entryId}>
                    <LinkTo link={child} />
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
      )}

      <section aria-labelledby="chain-title">
        <h2 id="chain-title">Tamper evidence</h2>
        <p data-testid="chain">
          {chain.hashOk ? 'Its stored body hashes to its hash' : 'ITS HASH DOES NOT MATCH ITS BODY'}; link to the previous entry:{' '}
          {chain.link === 'linked' ? 'intact' : chain.link === 'start' ? 'start of its chain' : 'BROKEN'} (chain of {chain.chain === 0 ? 'entries kept forever' : `${chain.chain}-day entries`}, partition{' '}
          {chain.partition}).
        </p>
        <p>
          Hash <code>{entry.hash}</code>
        </p>
      </section>

      {manager && restoreKinds.length > 0 && <RestorePanel target={entry.id} kinds={[...restoreKinds]} />}
      {manager && entry.table && <RuleButtons entryId={entry.id} table={table} />}

      <details>
        <summary>Raw event</summary>
        <pre>{JSON.stringify(entry, null, 2)}</pre>
      </details>
    </article>
  );
}
