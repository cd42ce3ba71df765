import { lazy, Suspense, useEffect, useRef, useState } from "react";
import { AuthGate } from "./components/AuthGate";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { useRoute, href } from "./route";
import { Gallery } from "./pages/Gallery";
import { Runs } from "./pages/Runs";
import { Playground } from "./pages/Playground";

// The builder pulls in React Flow and the YAML library: loaded when first opened, so the first
// page stays small.
const Builder = lazy(() => import("./pages/Builder"));

const PAGES = [
  { key: "gallery", label: "Gallery" },
  { key: "builder", label: "Builder" },
  { key: "play", label: "Playground" },
  { key: "runs", label: "Runs" },
] as const;

export function App() {
  const route = useRoute();
  const page = route.path[0] || "gallery";
  const main = useRef<HTMLElement>(null);
  const current = page === "runs" && route.path[1] ? "play" : page;
  const [user, setUser] = useState<{ name: string; logout: () => void }>();

  useEffect(() => {
    const title = PAGES.find((p) => p.key === current)?.label ?? "Studio";
    document.title = `${title} · parley Studio`;
  }, [current]);

  let content;
  if (page === "builder") content = <Builder route={route} />;
  else if (page === "play") content = <Playground route={route} runId={undefined} />;
  else if (page === "runs" && route.path[1]) content = <Playground route={route} runId={route.path[1]} key={route.path[1]} />;
  else if (page === "runs") content = <Runs />;
  else content = <Gallery />;

  return (
    <>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">parley Studio</span>
        <nav aria-label="Pages">
          {PAGES.map((p) => (
            <a key={p.key} href={href(p.key)} aria-current={current === p.key ? "page" : undefined}>
              {p.label}
            </a>
          ))}
        </nav>
        {user && (
          <span className="user">
            {user.name} <button type="button" className="link light" onClick={user.logout}>Log out</button>
          </span>
        )}
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <AuthGate onUser={(me, logout) => setUser(me?.user ? { name: me.user, logout } : undefined)}>
          <ErrorBoundary resetKey={window.location.hash}>
            <Suspense fallback={<p className="muted">Loading…</p>}>{content}</Suspense>
          </ErrorBoundary>
        </AuthGate>
      </main>
    </>
  );
}
