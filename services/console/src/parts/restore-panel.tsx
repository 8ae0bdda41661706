import { useState } from 'preact/hooks';
import { api, errorText } from '../lib/api';

type Kind = 'entry' | 'cascade' | 'revert' | 'tx';
interface Report {
  outcome: 'ok' | 'failed';
  restored: number;
  restoredByTable: Record<string, number>;
  updated: number;
  alreadyPresent: number;
  conflicts: unknown[];
  skipped: unknown[];
  error?: { code: string; message: string };
  sql?: string[];
}
interface Job {
  id: string;
  state: string;
  report: Report | null;
  error: string | null;
}

const KIND_TEXT: Record<Kind, string> = {
  entry: 'this row',
  cascade: 'this row and every row its deletion cascaded to',
  revert: 'this row as it was before the update',
  tx: 'every row this transaction deleted (and the keys its deletes set to NULL)',
};

function ReportView({ report, title }: { report: Report; title: string }) {
  return (
    <div class="report" data-testid="restore-report">
      <h3>{title}</h3>
      <p>
        Outcome: <strong>{report.outcome}</strong>; rows restored: {report.restored}; updated: {report.updated}; already present: {report.alreadyPresent}; conflicts: {report.conflicts.length}
        ; skipped: {report.skipped.length}
      </p>
      {report.error && <p role="alert">{report.error.message}</p>}
      <ul>
        {Object.entries(report.restoredByTable).map(([table, rows]) => (
          <li key={table}>
            {table}: {rows} row(s)
          </li>
        ))}
      </ul>
      {report.conflicts.length > 0 && <pre>{JSON.stringify(report.conflicts, null, 2)}</pre>}
      {report.sql && (
        <details>
          <summary>Statements, in order ({report.sql.length})</summary>
          <pre>{report.sql.join('\n')}</pre>
        </details>
      )}
    </div>
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Manager only: the dry-run plan first, then confirm, then the job's report. `target`: an entry id, or a transaction id for `tx`. */
export function RestorePanel({ target, kinds }: { target: string; kinds: Kind[] }) {
  const [kind, setKind] = useState<Kind>(kinds[0]!);
  const [policy, setPolicy] = useState('fail');
  const [plan, setPlan] = useState<Report | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [message, setMessage] = useState('');
  const body = (dryRun: boolean) => ({ request: kind === 'tx' ? { kind, xid: Number(target) } : { kind, entryId: target }, policy, dryRun });

  const planIt = async () => {
    setJob(null);
    setMessage('Planning…');
    try {
      setPlan((await api<{ report: Report }>('/api/restores', { method: 'POST', body: body(true) })).report);
      setMessage('');
    } catch (failure) {
      setMessage(errorText(failure));
    }
  };
  const confirm = async () => {
    setMessage('Restoring…');
    try {
      const submitted = (await api<{ job: Job }>('/api/restores', { method: 'POST', body: body(false) })).job;
      let current: Job = submitted;
      for (let round = 0; round < 120; round++) {
        current = (await api<{ job: Job }>(`/api/restores/${encodeURIComponent(submitted.id)}`)).job;
        if (current.state === 'completed' || current.state === 'failed') break;
        await sleep(500);
      }
      setJob(current);
      setPlan(null);
      setMessage('');
    } catch (failure) {
      setMessage(errorText(failure));
    }
  };

  return (
    <section class="panel" aria-labelledby="restore-title">
      <h2 id="restore-title">Restore</h2>
      <div class="controls">
        <label>
          What
          <select value={kind} onChange={(event) => (setKind(event.currentTarget.value as Kind), setPlan(null))}>
            {kinds.map((option) => (
              <option key={option} value={option}>
                {KIND_TEXT[option]}
              </option>
            ))}
          </select>
        </label>
        <label>
          When a row with the same key exists
          <select value={policy} onChange={(event) => (setPolicy(event.currentTarget.value), setPlan(null))}>
            <option value="fail">fail the restore</option>
            <option value="skip">skip that row</option>
            <option value="new-key">insert it with a new key</option>
          </select>
        </label>
        <button type="button" onClick={() => void planIt()}>
          Plan restore (dry run)
        </button>
      </div>
      {plan && (
        <>
          <ReportView report={plan} title="Dry run: what the restore would write" />
          <button type="button" class="danger" disabled={plan.outcome !== 'ok'} onClick={() => void confirm()}>
            Confirm restore
          </button>
        </>
      )}
      {job?.report && <ReportView report={job.report} title={`Restore job ${job.id}`} />}
      {job && !job.report && (
        <p role="status">
          Restore job {job.id}: {job.state}
          {job.error ? `: ${job.error}` : ''}
        </p>
      )}
      <p role="status">{message}</p>
    </section>
  );
}
