import { useEffect, useState } from "react";
import { api, asList, download, type RunSummary } from "../api";
import { useApi } from "../hooks";
import { href } from "../route";

function when(v: unknown): string {
  if (v === undefined || v === null || v === "") return "";
  const d = typeof v === "number" ? new Date(v < 1e12 ? v * 1000 : v) : new Date(String(v));
  return Number.isNaN(d.getTime()) ? String(v) : d.toLocaleString();
}

export function Runs() {
  const runs = useApi<unknown>("/api/runs");
  const [error, setError] = useState<string>();
  const list = asList<RunSummary>(runs.data, "runs");
  const anyLive = list.some((r) => r.live);

  // While a run is going on, the list follows it.
  useEffect(() => {
    if (!anyLive) return;
    const timer = setInterval(runs.reload, 3000);
    return () => clearInterval(timer);
  }, [anyLive, runs.reload]);

  async function resume(id: string) {
    setError(undefined);
    try { await api("POST", `/api/runs/${encodeURIComponent(id)}/resume`, {}); runs.reload(); }
    catch (e) { setError((e as Error).message); }
  }

  return (
    <div className="page">
      <div className="toolbar">
        <h1>Runs</h1>
        <button type="button" onClick={runs.reload}>Refresh</button>
      </div>
      {runs.error && <p role="alert" className="error">{runs.error}</p>}
      {error && <p role="alert" className="error">{error}</p>}
      {list.length === 0 ? <p className="muted">No runs yet. Start one in the <a href={href("play")}>playground</a>.</p> : (
        <table className="runs" data-testid="runs">
          <caption className="sr-only">Runs, newest first</caption>
          <thead><tr><th>Started</th><th>Team</th><th>Task</th><th>Status</th><th>Tokens</th><th>Cost</th><th><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {list.map((r) => {
              return (
                <tr key={r.id}>
                  <td>{when(r.created_at)}</td>
                  <td>{r.team ?? ""}</td>
                  <td className="task-cell" title={r.title ?? ""}>{r.title ?? ""}</td>
                  <td><span className={`badge status-${r.status}`}>{r.status.replace("_", " ")}</span>{r.state === "stopped" && r.status !== "finished" ? " (stopped)" : ""}{r.live ? " ●" : ""}</td>
                  <td>{r.tokens ?? ""}</td>
                  <td>{typeof r.cost === "number" ? `$${r.cost.toFixed(4)}` : ""}</td>
                  <td className="actions">
                    <a className="button" href={href(`runs/${encodeURIComponent(r.id)}`)}>Open</a>
                    <a className="button" href={href(`runs/${encodeURIComponent(r.id)}`, { replay: "1" })}>Replay</a>
                    <button type="button" onClick={() => void download(`/api/runs/${encodeURIComponent(r.id)}/export?format=md`, `run-${r.id}.md`)}>Export</button>
                    <button type="button" onClick={() => void resume(r.id)} disabled={r.live || r.status === "finished"}>Resume</button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
