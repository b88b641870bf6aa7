import { useId, useState } from 'react';
import type { FormEvent, Ref } from 'react';
import { requestDevToken } from '../api/client';
import type { FetchLike } from '../api/client';
import { ApiError } from '../api/problem';
import type { ProblemInfo } from '../api/problem';
import { ProblemView } from '../ui/ProblemView';
import { sessionFromToken } from './session';
import type { Session } from './session';

export interface SignInProps {
  /** Whether the console's server mints demo tokens (from /config.json). */
  devLogin: boolean;
  session: Session | null;
  onSignIn: (session: Session) => void;
  onSignOut: () => void;
  fetch?: FetchLike;
  /** Receives the section's heading ("Sign in" or "Customer"), so the console can move keyboard focus to it. */
  headingRef?: Ref<HTMLHeadingElement>;
}

/** Sign in as a demo customer (the server mints the token), or paste a token issued elsewhere. */
export function SignIn({ devLogin, session, onSignIn, onSignOut, fetch, headingRef }: SignInProps) {
  const [customerId, setCustomerId] = useState('alice');
  const [pasted, setPasted] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ProblemInfo | null>(null);
  const idField = useId();
  const tokenField = useId();

  if (session) {
    return (
      <section className="card sign-in" aria-labelledby={`${idField}-h`}>
        <h2 id={`${idField}-h`} ref={headingRef} tabIndex={-1}>
          Customer
        </h2>
        <p>
          Signed in as <strong data-testid="signed-in-as">{session.customerId}</strong>{' '}
          <span className="muted">(token valid until {new Date(session.expiresAt).toLocaleTimeString()})</span>
        </p>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </section>
    );
  }

  async function signInDemo(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setProblem(null);
    try {
      const minted = await requestDevToken(customerId.trim(), fetch);
      onSignIn({ customerId: minted.customerId, token: minted.token, expiresAt: minted.expiresAt });
    } catch (error) {
      setProblem(error instanceof ApiError ? error.problem : { title: 'Sign-in failed', detail: String(error), status: 0, code: 'unknown' });
    } finally {
      setBusy(false);
    }
  }

  function signInWithToken(event: FormEvent) {
    event.preventDefault();
    const next = sessionFromToken(pasted);
    if (!next) {
      setProblem({
        title: 'That is not a token',
        detail: 'paste a JWT of three dot-separated parts with sub and exp claims',
        status: 0,
        code: 'invalid-token',
      });
      return;
    }
    setProblem(null);
    onSignIn(next);
  }

  return (
    <section className="card sign-in" aria-labelledby={`${idField}-h`}>
      <h2 id={`${idField}-h`} ref={headingRef} tabIndex={-1}>
        Sign in
      </h2>
      {devLogin ? (
        <form onSubmit={(event) => void signInDemo(event)} className="row">
          <label htmlFor={idField}>Demo customer id</label>
          <input
            id={idField}
            name="customerId"
            value={customerId}
            onChange={(e) => setCustomerId(e.target.value)}
            autoComplete="username"
            aria-describedby={`${idField}-hint`}
          />
          {/* aria-disabled, not disabled, while signing in: a failed sign-in would leave keyboard focus on <body>. */}
          <button type="submit" aria-disabled={busy || undefined}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
          <p id={`${idField}-hint`} className="muted hint">
            The console's server mints a one-off customer token; the browser never sees the signing secret.
          </p>
        </form>
      ) : (
        <form onSubmit={signInWithToken} className="column">
          <p className="muted">
            Demo sign-in is off on this server. Paste a customer token (<code>pnpm dev-token --sub alice</code>).
          </p>
          <label htmlFor={tokenField}>Bearer token</label>
          <textarea id={tokenField} value={pasted} onChange={(e) => setPasted(e.target.value)} rows={3} />
          <button type="submit">Use token</button>
        </form>
      )}
      {problem && <ProblemView problem={problem} />}
    </section>
  );
}
