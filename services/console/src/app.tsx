import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router } from 'preact-iso';
import { api, SIGNED_OUT, tokenStore } from './lib/api';
import { MeContext, type Me } from './lib/me';
import { AlertsPage } from './pages/alerts';
import { EntryPage } from './pages/entry';
import { HistoryPage } from './pages/history';
import { LogPage } from './pages/log';
import { OverviewPage } from './pages/overview';
import { RulesPage } from './pages/rules';
import { SignIn } from './pages/sign-in';
import { TransactionPage } from './pages/transaction';

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <a href="/">Back to the overview</a>
      </p>
    </section>
  );
}

function Shell({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">walaudit</span>
        <nav aria-label="Main">
          <a href="/">Overview</a>
          <a href="/log">Audit log</a>
          <a href="/alerts">Alerts</a>
          <a href="/rules">Rules and retention</a>
        </nav>
        <span class="who" data-testid="who">
          {me.name} <span class="role">{me.role}</span>
        </span>
        {me.via !== 'proxy' && (
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        )}
      </header>
      <main id="main">
        <Router>
          <Route path="/" component={OverviewPage} />
          <Route path="/log" component={LogPage} />
          <Route path="/entries/:id" component={EntryPage} />
          <Route path="/history" component={HistoryPage} />
          <Route path="/transactions/:xid" component={TransactionPage} />
          <Route path="/alerts" component={AlertsPage} />
          <Route path="/rules" component={RulesPage} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </>
  );
}

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(true);
  const [notice, setNotice] = useState('');

  useEffect(() => {
    const signedOut = (event: Event) => {
      setMe(null);
      setNotice(`Signed out: ${(event as CustomEvent<string>).detail}`);
    };
    window.addEventListener(SIGNED_OUT, signedOut);
    // With a token from this tab, or none behind a trusted SSO proxy that signs people in itself.
    api<Me>('/api/me')
      .then(setMe)
      .catch(() => undefined)
      .finally(() => setChecking(false));
    return () => window.removeEventListener(SIGNED_OUT, signedOut);
  }, []);

  if (checking) return <p role="status">Checking who you are…</p>;
  if (!me) {
    return (
      <main id="main">
        <SignIn notice={notice} onSignedIn={(who) => (setNotice(''), setMe(who))} />
      </main>
    );
  }
  const signOut = () => {
    tokenStore.clear();
    setMe(null);
    setNotice('You are signed out.');
  };
  return (
    <MeContext.Provider value={me}>
      <LocationProvider>
        <Shell me={me} onSignOut={signOut} />
      </LocationProvider>
    </MeContext.Provider>
  );
}
