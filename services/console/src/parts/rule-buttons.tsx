import { useState } from 'preact/hooks';
import { api, errorText } from '../lib/api';

/** Manager only: stop auditing this entry's table, or audit it as critical, from the next transaction on. */
export function RuleButtons({ entryId, table }: { entryId: string; table: string }) {
  const [message, setMessage] = useState('');
  const change = async (action: 'exclude' | 'watch') => {
    try {
      await api('/api/rules', { method: 'POST', body: { action, entryId } });
      setMessage(action === 'exclude' ? `${table} is no longer audited from the next transaction on (undo it on the Rules page).` : `${table} is now watched: each transaction deleting from it raises a critical-table alert.`);
    } catch (failure) {
      setMessage(errorText(failure));
    }
  };
  return (
    <section class="panel" aria-labelledby="rules-title">
      <h2 id="rules-title">Audit rules for {table}</h2>
      <div class="controls">
        <button type="button" onClick={() => void change('exclude')}>
          Exclude this table
        </button>
        <button type="button" onClick={() => void change('watch')}>
          Watch this table
        </button>
      </div>
      <p role="status">{message}</p>
    </section>
  );
}
