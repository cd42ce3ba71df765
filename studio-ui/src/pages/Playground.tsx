import { useEffect, useMemo, useRef, useState } from "react";
import { api, asList, download, eventsSocket, type GalleryItem, type RunDetail, type SavedTeam } from "../api";
import { useApi } from "../hooks";
import { navigate, type Route } from "../route";
import { fold, isInlineImage, type Item, type RunEvent } from "../transcript";
import { agentColour } from "../colours";

const ENDED = new Set(["finished", "failed", "stopped", "interrupted"]);

export function Playground({ route, runId }: { route: Route; runId: string | undefined }) {
  return runId ? <RunView runId={runId} replay={route.query.get("replay") === "1"} /> : <StartRun initialTeam={route.query.get("team") ?? ""} />;
}

function StartRun({ initialTeam }: { initialTeam: string }) {
  const gallery = useApi<unknown>("/api/gallery");
  const teams = useApi<unknown>("/api/teams");
  const [team, setTeam] = useState(initialTeam);
  const [message, setMessage] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const galleryItems = asList<GalleryItem>(gallery.data, "gallery", "teams");
  const saved = asList<SavedTeam>(teams.data, "teams");
  const chosenSpec = saved.find((t) => t.id === team)?.spec ?? galleryItems.find((g) => g.name === team)?.spec;
  const defaultTask = typeof chosenSpec?.run?.task === "string" ? (chosenSpec.run.task as string) : "";

  async function start(e?: React.FormEvent) {
    e?.preventDefault();
    if (!team) return;
    setBusy(true);
    setError(undefined);
    try {
      const run = await api<{ id: string; notes?: string[] }>("POST", "/api/runs", { team, message: message.trim() || defaultTask || undefined });
      // The server's notes on how it runs the team (the sandbox put in place), shown on the run's page.
      if (run.notes?.length) sessionStorage.setItem(`parley-run-notes-${run.id}`, JSON.stringify(run.notes));
      navigate(`runs/${encodeURIComponent(run.id)}`);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  }

  return (
    <form className="page start-run" onSubmit={start}>
      <h1>Playground</h1>
      <div className="field">
        <label htmlFor="run-team">Team</label>
        <select id="run-team" value={team} onChange={(e) => setTeam(e.target.value)} required>
          <option value="">Choose a team…</option>
          {saved.length > 0 && (
            <optgroup label="Your teams">
              {saved.map((t) => <option key={t.id} value={t.id}>{t.name ?? t.spec?.name ?? t.id}</option>)}
            </optgroup>
          )}
          <optgroup label="Gallery">
            {galleryItems.map((g) => <option key={g.name} value={g.name}>{g.name}</option>)}
          </optgroup>
        </select>
      </div>
      <div className="field">
        <label htmlFor="run-task">Task</label>
        <textarea id="run-task" rows={4} value={message} placeholder={defaultTask || "What should the team do?"}
          onChange={(e) => setMessage(e.target.value)}
          onKeyDown={(e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void start(); }} />
        <span className="muted">Ctrl+Enter starts the run.{defaultTask && " Empty: the team’s own task."}</span>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      <button type="submit" className="primary" disabled={!team || busy}>Start run</button>
    </form>
  );
}

function useRunEvents(runId: string, live: boolean): { events: RunEvent[]; connected: boolean } {
  const [events, setEvents] = useState<RunEvent[]>([]);
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    let closed = false;
    let socket: WebSocket | undefined;
    let buffer: RunEvent[] = [];
    let frame = 0;
    let retry: ReturnType<typeof setTimeout> | undefined;
    // Batch the events of one animation frame into one render (token streams are many).
    const flush = () => { frame = 0; const batch = buffer; buffer = []; setEvents((old) => old.concat(batch)); };
    const open = () => {
      socket = eventsSocket(runId);
      socket.onopen = () => { setConnected(true); buffer = []; setEvents([]); }; // the server resends everything recorded
      socket.onmessage = (m) => {
        try {
          const event = JSON.parse(String(m.data)) as RunEvent;
          if (event && typeof event.type === "string") { buffer.push(event); if (!frame) frame = requestAnimationFrame(flush); }
        } catch { /* not an event */ }
      };
      socket.onclose = () => {
        setConnected(false);
        if (!closed && live) retry = setTimeout(open, 1500);
      };
    };
    open();
    return () => { closed = true; clearTimeout(retry); cancelAnimationFrame(frame); socket?.close(); };
  }, [runId, live]);
  return { events, connected };
}

// Events after which the run's record (status, usage, cost) is read again.
const RELOAD_ON = new Set(["ChatFinished", "HumanInputRequested", "HumanInputReceived", "RunStatus"]);

function RunView({ runId, replay }: { runId: string; replay: boolean }) {
  const run = useApi<RunDetail>(`/api/runs/${encodeURIComponent(runId)}`);
  const { events, connected } = useRunEvents(runId, true);
  const [shown, setShown] = useState(replay ? 0 : Infinity);
  const [answer, setAnswer] = useState("");
  const [actionError, setActionError] = useState<string>();
  const answerBox = useRef<HTMLTextAreaElement>(null);
  const [notes] = useState<string[]>(() => JSON.parse(sessionStorage.getItem(`parley-run-notes-${runId}`) ?? "[]") as string[]);
  const end = useRef<HTMLDivElement>(null);

  // Replay: reveal the recorded events one message at a time.
  useEffect(() => {
    if (!replay || shown >= events.length) return;
    const t = setTimeout(() => {
      let n = shown + 1;
      while (n < events.length && events[n - 1].type !== "MessageSent") n++;
      setShown(n);
    }, 350);
    return () => clearTimeout(t);
  }, [replay, shown, events]);

  const visible = useMemo(() => (shown === Infinity ? events : events.slice(0, shown)), [events, shown]);
  const transcript = useMemo(() => fold(visible), [visible]);
  const serverStatus = run.data?.status;
  const status = serverStatus ?? transcript.status ?? "…";
  const lastEvent = events[events.length - 1]?.type;

  // Refresh the run's record (status, usage, cost) when the conversation ends or pauses.
  useEffect(() => {
    if (lastEvent && RELOAD_ON.has(lastEvent)) run.reload();
  }, [lastEvent, events.length]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if (!run.error) return;
    const t = setTimeout(run.reload, 1000);
    return () => clearTimeout(t);
  }, [run.error, run.reload]);

  // The answer box: while the run waits for its human (not once it was stopped or ended).
  const asking = transcript.pending && !replay && !ENDED.has(status) ? transcript.pending : null;
  useEffect(() => { if (asking) answerBox.current?.focus(); }, [asking]);
  useEffect(() => { end.current?.scrollIntoView({ block: "end" }); }, [transcript.items.length]);

  async function act(path: string, body?: unknown) {
    setActionError(undefined);
    try { await api("POST", `/api/runs/${encodeURIComponent(runId)}/${path}`, body ?? {}); run.reload(); }
    catch (e) { setActionError((e as Error).message); }
  }
  async function sendAnswer(e?: React.FormEvent) {
    e?.preventDefault();
    await act("input", { text: answer });
    setAnswer("");
  }

  // Usage: the store's record when read, else what the stream's ModelCalled events add up to.
  const perModel = Object.values(run.data?.usage ?? {});
  const stored = perModel.length > 0 && transcript.usage.calls <= perModel.reduce((n, u) => n + u.calls, 0);
  const promptTokens = stored ? perModel.reduce((n, u) => n + u.prompt_tokens, 0) : transcript.usage.prompt;
  const completionTokens = stored ? perModel.reduce((n, u) => n + u.completion_tokens, 0) : transcript.usage.completion;
  const cost = stored ? perModel.reduce((n, u) => n + u.cost, 0) : transcript.usage.cost;
  const live = run.data?.live ?? !ENDED.has(status);
  const task = run.data?.title;

  return (
    <div className="run">
      <div className="toolbar run-bar">
        <h1>Run <span className="mono" title={runId}>{runId.slice(0, 8)}</span></h1>
        <span className={`badge status-${String(status).toLowerCase().replace(/\W+/g, "-")}`} data-testid="run-status" role="status">{String(status).replace("_", " ")}{run.data?.state === "stopped" && status !== "finished" ? " (stopped)" : ""}</span>
        <span className="muted" title="the run’s event stream">{connected ? "● connected" : "○ reconnecting…"}</span>
        <span data-testid="usage" className="usage">
          {promptTokens + completionTokens} tokens ({promptTokens} prompt, {completionTokens} completion) · ${cost.toFixed(4)}
        </span>
        <span className="grow" />
        <button type="button" onClick={() => void act("stop")} disabled={!live}>Stop</button>
        <button type="button" onClick={() => void act("resume")} disabled={live || status === "finished"}>Resume</button>
        <button type="button" onClick={() => void download(`/api/runs/${encodeURIComponent(runId)}/export?format=md`, `run-${runId}.md`)}>Export Markdown</button>
        <button type="button" onClick={() => void download(`/api/runs/${encodeURIComponent(runId)}/export?format=json`, `run-${runId}.json`)}>Export JSON</button>
        {replay && shown < events.length && <button type="button" onClick={() => setShown(Infinity)}>Show all</button>}
      </div>
      {run.error && !run.data && <p className="muted">{run.error}</p>}
      {actionError && <p role="alert" className="error">{actionError}</p>}
      {task && <p className="task"><strong>Task:</strong> {String(task)}</p>}
      {notes.length > 0 && <ul className="notes" aria-label="Notes">{notes.map((n, i) => <li key={i}>{n}</li>)}</ul>}
      <ol className="transcript" aria-label="Transcript" aria-live={replay ? "off" : "polite"} data-testid="transcript">
        {transcript.items.map((item, i) => <TranscriptItem key={i} item={item} />)}
      </ol>
      <div ref={end} />
      {asking && (
        <form className="human" onSubmit={sendAnswer} aria-label="Human input" data-testid="human-input">
          <label htmlFor="answer"><strong style={{ color: agentColour(asking.agent) }}>{asking.agent}</strong> asks you: <span className="prompt">{asking.prompt}</span></label>
          <textarea id="answer" ref={answerBox} rows={3} value={answer} onChange={(e) => setAnswer(e.target.value)}
            onKeyDown={(e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void sendAnswer(); }} />
          <div className="actions">
            <button type="submit" className="primary">Send</button>
            <span className="muted">Ctrl+Enter sends. An empty answer lets the agent reply on its own; “exit” ends the chat.</span>
          </div>
        </form>
      )}
    </div>
  );
}

function Who({ name }: { name: string }) {
  return <strong className="who" style={{ color: agentColour(name) }}>{name}</strong>;
}

function Text({ text }: { text: string }) {
  // Model text is shown as text, never as HTML.
  return <div className="text">{text}</div>;
}

function distance(d: number | null): string {
  return d === null ? "?" : d.toFixed(3);
}

function TranscriptItem({ item }: { item: Item }) {
  switch (item.kind) {
    case "message": {
      const text = item.parts.map((p) => (p.kind === "text" ? p.text : "")).join("");
      const body = (
        <>
          {item.parts.map((p, i) => p.kind === "text" ? <Text key={i} text={p.text} /> : isInlineImage(p.url)
            ? <img key={i} src={p.url} alt={`image from ${item.sender}`} className="msg-image" />
            : <a key={i} href={p.url} target="_blank" rel="noopener noreferrer" className="remote-image">remote image (opens {p.url.slice(0, 120)})</a>)}
          {item.toolCalls.map((c, i) => (
            <details key={`c${i}`} className="fold">
              <summary>calls <code>{c.name}</code></summary>
              <pre className="mono">{c.arguments}</pre>
            </details>
          ))}
        </>
      );
      const folded = item.toolResult || item.codeResult;
      return (
        <li className="msg" style={{ borderLeftColor: agentColour(item.sender) }} data-sender={item.sender}>
          <div className="msg-head"><Who name={item.sender} /> <span className="muted">→ {item.recipient}</span></div>
          {folded ? (
            <details className="fold"><summary>{item.toolResult ? "tool result" : text.split("\n", 1)[0]}</summary>{body}</details>
          ) : body}
        </li>
      );
    }
    case "stream":
      return (
        <li className="msg streaming" style={{ borderLeftColor: agentColour(item.agent) }} aria-busy="true">
          <div className="msg-head"><Who name={item.agent} /> <span className="muted">typing…</span></div>
          <Text text={item.text} />
        </li>
      );
    case "tool":
      return (
        <li className="event">
          <details className="fold">
            <summary><Who name={item.agent} /> ran tool <code>{item.tool}</code> {item.ok ? "✓" : "✗ failed"}</summary>
            <div className="muted">arguments</div><pre className="mono">{item.arguments}</pre>
            <div className="muted">result</div><pre className="mono">{item.result}</pre>
          </details>
        </li>
      );
    case "code":
      return (
        <li className="event">
          <details className="fold">
            <summary><Who name={item.agent} /> ran {item.language || "code"} ({item.executor}) — exit {item.exitCode} {item.exitCode === 0 ? "✓" : "✗"}</summary>
            <pre className="mono code">{item.code}</pre>
            <div className="muted">output</div><pre className="mono">{item.output}</pre>
          </details>
        </li>
      );
    case "speaker":
      return <li className="event muted">next speaker: <Who name={item.speaker} /></li>;
    case "human":
      return (
        <li className="event human-item">
          {item.unanswered ? <><Who name={item.agent} /> asked you; the run ended before an answer</>
            : item.reply === undefined ? <><Who name={item.agent} /> is asking you (answer below)</> : (
            <details className="fold">
              <summary><Who name={item.agent} /> asked you; you answered: <q>{item.reply || "(empty: auto-reply)"}</q></summary>
              <span className="prompt">{item.prompt}</span>
            </details>
          )}
        </li>
      );
    case "finished":
      return <li className={`event finished${item.nested ? " nested" : ""}`}>{item.nested ? "nested chat" : "chat"} finished: {item.reason}{item.summary ? <details className="fold"><summary>summary</summary><Text text={item.summary} /></details> : null}</li>;
    case "notice":
      return <li className={`event notice-${item.level}`}>{item.text}</li>;
    case "retrieval":
      return (
        <li className="event retrieval">
          <details className="fold">
            <summary><Who name={item.agent} /> retrieved {item.sources.length} chunk{item.sources.length === 1 ? "" : "s"}{item.collection ? ` from ${item.collection}` : ""}, used {item.used.length}</summary>
            <div className="muted">query</div><pre className="mono">{item.query}</pre>
            <div className="muted">sources (nearest first)</div>
            <ol className="sources">
              {item.sources.map((s, i) => (
                <li key={i} data-used={item.used.includes(s.id) ? "yes" : "no"}>
                  <code>{s.source || s.id}</code> <span className="muted">distance {distance(s.distance)}{item.used.includes(s.id) ? " · used" : ""}</span>
                </li>
              ))}
            </ol>
          </details>
        </li>
      );
    case "recalled":
      return (
        <li className="event recalled">
          <details className="fold">
            <summary><Who name={item.agent} /> recalled {item.memos.length} memo{item.memos.length === 1 ? "" : "s"}</summary>
            <div className="muted">query</div><pre className="mono">{item.query}</pre>
            <ol className="memos">
              {item.memos.map((m, i) => (
                <li key={i}><q>{m.input}</q> → {m.output} <span className="muted">distance {distance(m.distance)}</span></li>
              ))}
            </ol>
          </details>
        </li>
      );
    case "memo":
      return (
        <li className="event memo">
          <details className="fold">
            <summary><Who name={item.agent} /> stored a memo</summary>
            <div className="muted">recalled by</div><pre className="mono">{item.input}</pre>
            <div className="muted">recalls</div><pre className="mono">{item.output}</pre>
          </details>
        </li>
      );
  }
}
