import { useState, type FormEvent } from 'react';
import type { Role } from '../gql/graphql';
import { roleOf } from '../session';

export function SignIn({ onSignedIn }: { onSignedIn: (token: string, role: Role) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(token.trim(), await roleOf(token.trim()));
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <form onSubmit={submit} className="card">
        <h1>Herald</h1>
        <p className="muted">The operator console. Sign in with an API token (API_TOKENS; in development, .data/admin-token).</p>
        <label>
          API token
          <input type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} required autoFocus />
        </label>
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || token.trim() === ''}>
          Sign in
        </button>
      </form>
    </main>
  );
}
