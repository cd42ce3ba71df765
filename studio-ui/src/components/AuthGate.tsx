import { useEffect, useState, type ReactNode } from "react";
import { api, ApiError } from "../api";

// Who the browser is to the server: the token (kept for this tab from the URL `parley studio`
// printed) and, when the Studio has accounts, a logged-in user (its session kept the same way).
interface Me { user: string | null; accounts: boolean }

export function AuthGate({ children, onUser }: { children: ReactNode; onUser: (me: Me | undefined, logout: () => void) => void }) {
  const [me, setMe] = useState<Me>();
  const [problem, setProblem] = useState<"token" | "other">();
  const [message, setMessage] = useState<string>();
  const [tick, setTick] = useState(0);

  useEffect(() => {
    api<Me>("GET", "/api/me")
      .then((m) => { setMe(m); setProblem(undefined); })
      .catch((e: Error) => { setProblem(e instanceof ApiError && e.status === 401 ? "token" : "other"); setMessage(e.message); });
  }, [tick]);

  useEffect(() => {
    onUser(me, () => void api("POST", "/api/logout", {}).finally(() => setTick((t) => t + 1)));
  }, [me]); // eslint-disable-line react-hooks/exhaustive-deps

  if (problem === "token")
    return (
      <div className="page">
        <h1>Access token needed</h1>
        <p>Open the address <code>parley studio</code> printed when it started (it ends in <code>?token=…</code>).</p>
      </div>
    );
  if (problem === "other") return <p role="alert" className="error page">The Studio server did not answer: {message}</p>;
  if (!me) return <p className="muted">Connecting…</p>;
  if (me.accounts && !me.user) return <Login onDone={() => setTick((t) => t + 1)} />;
  return <>{children}</>;
}

function Login({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string>();
  return (
    <form className="page login" onSubmit={(e) => {
      e.preventDefault();
      api("POST", "/api/login", { name, password }).then(onDone).catch((err: Error) => setError(err.message));
    }}>
      <h1>Log in</h1>
      <div className="field"><label htmlFor="login-name">User</label>
        <input id="login-name" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} autoFocus required /></div>
      <div className="field"><label htmlFor="login-password">Password</label>
        <input id="login-password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required /></div>
      {error && <p role="alert" className="error">{error}</p>}
      <button type="submit" className="primary">Log in</button>
    </form>
  );
}
