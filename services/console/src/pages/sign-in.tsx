import { useState } from 'preact/hooks';
import { api, errorText, tokenStore } from '../lib/api';
import type { Me } from '../lib/me';

/** A token pasted here is kept for this tab only (sessionStorage) and sent as a bearer header. */
export function SignIn({ notice, onSignedIn }: { notice: string; onSignedIn: (me: Me) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    tokenStore.set(token.trim());
    try {
      onSignedIn(await api<Me>('/api/me'));
    } catch (failure) {
      tokenStore.clear();
      setError(errorText(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="sign-in">
      <h1>Sign in to walaudit</h1>
      {notice && <p role="status">{notice}</p>}
      <form onSubmit={submit}>
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" required value={token} onInput={(event) => setToken(event.currentTarget.value)} />
        <button type="submit" disabled={busy || !token.trim()}>
          Sign in
        </button>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <p class="hint">
        A manager creates tokens (<code>POST /api/tokens</code>, role viewer or manager). On the host where <code>walaudit start</code> runs, a manager token is in
        its data directory (<code>.walaudit/data/api-token</code>). The token stays in this browser tab only.
      </p>
    </section>
  );
}
