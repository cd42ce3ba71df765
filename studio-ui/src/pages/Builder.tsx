import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import YAML from "yaml";
import { api, ApiError, asList, type GalleryItem, type SavedTeam, type Spec, type ValidationProblem } from "../api";
import { SchemaForm, type FormContext } from "../components/SchemaForm";
import { TransitionGraph, type Transitions } from "../components/TransitionGraph";
import { def } from "../schema";
import { navigate, setLeaveGuard, type Route } from "../route";
import { agentColour } from "../colours";

type Obj = Record<string, unknown>;

const BLANK: Spec = {
  version: 1,
  name: "my-team",
  models: { default: { config_list: { env_or_file: "OAI_CONFIG_LIST" } } },
  agents: {
    user: { class: "UserProxyAgent", code_execution_config: false },
    assistant: { class: "AssistantAgent", llm_config: "default" },
  },
  run: { initiator: "user", recipient: "assistant", message: "{task}" },
};

/** The document as YAML, long texts on one line (no folding), as `parley gallery export` writes them. */
function toYaml(spec: Spec): string {
  return YAML.stringify(spec, { lineWidth: 0 });
}

function specOf(item: { spec?: Spec; yaml?: string } | undefined): Spec | undefined {
  if (!item) return undefined;
  if (item.spec) return item.spec;
  if (item.yaml) return YAML.parse(item.yaml) as Spec;
  return undefined;
}

/** Renames an agent and every reference to it (group chats, transitions, the run, tools, nested chats). */
function renameAgent(spec: Spec, from: string, to: string): Spec {
  const swap = (n: unknown) => (n === from ? to : n);
  const agents: Record<string, Obj> = {};
  for (const [name, agent] of Object.entries(spec.agents ?? {})) agents[name === from ? to : name] = agent;
  const group_chats = spec.group_chats
    ? Object.fromEntries(Object.entries(spec.group_chats).map(([g, gc]) => {
        const t = gc.allowed_or_disallowed_speaker_transitions as Transitions | undefined;
        return [g, {
          ...gc,
          agents: ((gc.agents as string[]) ?? []).map(swap),
          ...(t ? { allowed_or_disallowed_speaker_transitions: Object.fromEntries(Object.entries(t).map(([k, v]) => [swap(k), v.map(swap)])) } : {}),
        }];
      }))
    : spec.group_chats;
  const run = spec.run ? { ...spec.run, initiator: swap(spec.run.initiator), ...(spec.run.recipient ? { recipient: swap(spec.run.recipient) } : {}) } : spec.run;
  const tools = spec.tools && typeof spec.tools === "object"
    ? Object.fromEntries(Object.entries(spec.tools as Record<string, Obj>).map(([k, t]) => [k, { ...t, caller: swap(t.caller), executor: swap(t.executor) }]))
    : spec.tools;
  return { ...spec, agents, group_chats, run, ...(tools ? { tools } : {}) };
}

function problemsOf(body: unknown): ValidationProblem[] {
  const list = asList<unknown>(body, "errors", "problems");
  return list.map((p) => {
    if (typeof p === "string") return { path: "", message: p };
    const o = p as Obj;
    return { path: String(o.path ?? o.loc ?? ""), message: String(o.message ?? o.msg ?? JSON.stringify(o)), line: (o.line as number) ?? null };
  });
}

export default function Builder({ route }: { route: Route }) {
  const [spec, setSpec] = useState<Spec>();
  const [yamlText, setYamlText] = useState("");
  const [yamlError, setYamlError] = useState<string>();
  const [problems, setProblems] = useState<ValidationProblem[] | null>(null);
  const [validating, setValidating] = useState(false);
  const [notes, setNotes] = useState<string[]>([]);
  const [teamId, setTeamId] = useState<string | undefined>(route.query.get("team") ?? undefined);
  const [status, setStatus] = useState<string>();
  const [loadError, setLoadError] = useState<string>();
  const [selected, setSelected] = useState<string>();
  const [newAgent, setNewAgent] = useState("");
  const yamlRef = useRef<HTMLTextAreaElement>(null);

  // Load the starting document: a gallery team, a saved team, or a blank one.
  useEffect(() => {
    const gallery = route.query.get("gallery");
    const team = route.query.get("team");
    // A gallery or saved team comes with its YAML as written (comments kept) when the server has it.
    let load: Promise<{ spec?: Spec; yaml?: string } | undefined>;
    if (team) load = api<SavedTeam & { yaml?: string }>("GET", `/api/teams/${encodeURIComponent(team)}`);
    else if (gallery) load = api<unknown>("GET", "/api/gallery").then((g) => asList<GalleryItem>(g, "gallery", "teams").find((i) => i.name === gallery));
    else load = Promise.resolve({ spec: structuredClone(BLANK) });
    setTeamId(team ?? undefined);
    load.then((item) => {
      const s = specOf(item);
      if (!s) throw new Error("team not found");
      setSpec(s);
      setYamlText(item?.yaml ?? toYaml(s));
      setSelected(Object.keys(s.agents ?? {})[0]);
    }).catch((e: Error) => setLoadError(e.message));
  }, [route.query.toString()]); // eslint-disable-line react-hooks/exhaustive-deps

  // Unsaved changes: leaving the builder (another page, a reload) asks first.
  const [dirty, setDirty] = useState(false);
  useEffect(() => {
    if (!dirty) return;
    const onUnload = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", onUnload);
    setLeaveGuard(() => window.confirm("This team has unsaved changes. Leave the builder anyway?"));
    return () => { window.removeEventListener("beforeunload", onUnload); setLeaveGuard(null); };
  }, [dirty]);

  // The form changed the document: write the YAML from it.
  const update = useCallback((next: Spec) => {
    setDirty(true);
    setSpec(next);
    setYamlText(toYaml(next));
    setYamlError(undefined);
  }, []);

  // The YAML was typed: take the document from it when it parses.
  function onYaml(text: string) {
    setDirty(true);
    setYamlText(text);
    try {
      const parsed = YAML.parse(text, { uniqueKeys: true });
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("the document must be a mapping");
      setSpec(parsed as Spec);
      setYamlError(undefined);
    } catch (e) {
      setYamlError((e as Error).message);
    }
  }

  // Validated as you type: the server's checks (errors by path, as `parley spec validate`).
  useEffect(() => {
    if (!yamlText) return;
    const timer = setTimeout(() => {
      setValidating(true);
      api<unknown>("POST", "/api/teams/validate", { yaml: yamlText })
        .then((r) => {
          const o = (r ?? {}) as Obj;
          setNotes(Array.isArray(o.notes) ? o.notes.map(String) : []);
          setProblems(o.valid === false || o.ok === false || asList(r, "errors", "problems").length ? problemsOf(r) : []);
        })
        .catch((e: Error) => setProblems(e instanceof ApiError && e.status === 422 ? problemsOf(e.body) : [{ path: "", message: e.message }]))
        .finally(() => setValidating(false));
    }, 300);
    return () => clearTimeout(timer);
  }, [yamlText]);

  const agentNames = useMemo(() => Object.keys(spec?.agents ?? {}), [spec]);
  const groupChatNames = Object.keys(spec?.group_chats ?? {});
  const ctx: FormContext = { agentNames, modelNames: Object.keys(spec?.models ?? {}), groupChatNames };
  const [chatName, setChatName] = useState<string>();
  const currentChat = chatName && groupChatNames.includes(chatName) ? chatName : groupChatNames[0];
  const chat = currentChat ? (spec?.group_chats?.[currentChat] as Obj) : undefined;
  const chatAgents = useMemo(() => ((chat?.agents as string[]) ?? []).filter((a) => agentNames.includes(a)), [chat, agentNames]);

  if (loadError) return <p role="alert" className="error">Could not open the team: {loadError}</p>;
  if (!spec) return <p className="muted">Loading…</p>;

  function setAgent(name: string, value: Obj) {
    update({ ...spec!, agents: { ...spec!.agents, [name]: value } });
  }
  function setChat(value: Obj) {
    update({ ...spec!, group_chats: { ...spec!.group_chats, [currentChat!]: value } });
  }
  function addAgent(e: React.FormEvent) {
    e.preventDefault();
    const name = newAgent.trim();
    if (!name || agentNames.includes(name)) return;
    const next: Spec = { ...spec!, agents: { ...spec!.agents, [name]: { class: "AssistantAgent", ...(ctx.modelNames[0] ? { llm_config: ctx.modelNames[0] } : {}) } } };
    if (currentChat && chat) next.group_chats = { ...spec!.group_chats, [currentChat]: { ...chat, agents: [...((chat.agents as string[]) ?? []), name] } };
    update(next);
    setSelected(name);
    setNewAgent("");
  }
  function removeAgent(name: string) {
    const agents = { ...spec!.agents };
    delete agents[name];
    const group_chats = spec!.group_chats
      ? Object.fromEntries(Object.entries(spec!.group_chats).map(([g, gc]) => {
          const t = gc.allowed_or_disallowed_speaker_transitions as Transitions | undefined;
          const copy: Obj = { ...gc, agents: ((gc.agents as string[]) ?? []).filter((a) => a !== name) };
          if (t) copy.allowed_or_disallowed_speaker_transitions = Object.fromEntries(
            Object.entries(t).filter(([k]) => k !== name).map(([k, v]) => [k, v.filter((a) => a !== name)]));
          return [g, copy];
        }))
      : spec!.group_chats;
    update({ ...spec!, agents, group_chats });
    setSelected(Object.keys(agents)[0]);
  }
  function addGroupChat() {
    const members = agentNames.filter((a) => (spec!.agents![a] as Obj).class !== "GroupChatManager");
    const name = groupChatNames.includes("group") ? `group${groupChatNames.length + 1}` : "group";
    const manager = agentNames.includes("chat_manager") ? `${name}_manager` : "chat_manager";
    update({
      ...spec!,
      agents: { ...spec!.agents, [manager]: { class: "GroupChatManager", ...(ctx.modelNames[0] ? { llm_config: ctx.modelNames[0] } : {}), groupchat: name } },
      group_chats: { ...(spec!.group_chats ?? {}), [name]: { agents: members, max_round: 10 } },
      run: { ...spec!.run, initiator: (spec!.run?.initiator as string) ?? members[0], recipient: manager },
    });
    setChatName(name);
  }
  function setTransitions(t: Transitions) {
    const copy: Obj = { ...chat };
    const cleaned = Object.fromEntries(Object.entries(t).filter(([, v]) => v.length));
    if (Object.keys(cleaned).length) {
      copy.allowed_or_disallowed_speaker_transitions = cleaned;
      if (!copy.speaker_transitions_type) copy.speaker_transitions_type = "allowed";
    } else {
      delete copy.allowed_or_disallowed_speaker_transitions;
      delete copy.speaker_transitions_type;
    }
    setChat(copy);
  }
  function jumpToLine(line?: number | null) {
    const area = yamlRef.current;
    if (!area || !line) return;
    const lines = area.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    area.focus();
    area.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
  }
  async function save(): Promise<string | undefined> {
    setStatus("Saving…");
    try {
      if (teamId) {
        await api("PUT", `/api/teams/${encodeURIComponent(teamId)}`, spec);
        setDirty(false);
        setLeaveGuard(null); // now, before a navigation that follows at once
        setStatus("Saved.");
        return teamId;
      }
      const created = await api<{ id: string }>("POST", "/api/teams", spec);
      setTeamId(created.id);
      setDirty(false);
      setLeaveGuard(null);
      window.history.replaceState(null, "", `#/builder?team=${encodeURIComponent(created.id)}`);
      setStatus("Saved.");
      return created.id;
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) setProblems(problemsOf(e.body));
      setStatus(`Not saved: ${(e as Error).message}`);
      return undefined;
    }
  }
  async function saveAndRun() {
    const id = await save();
    if (id) navigate("play", { team: id });
  }

  const agent = selected ? (spec.agents?.[selected] as Obj | undefined) : undefined;
  const transitions = (chat?.allowed_or_disallowed_speaker_transitions as Transitions | undefined) ?? null;
  const ok = problems !== null && problems.length === 0 && !yamlError;

  return (
    <div className="builder">
      <section className="builder-form" aria-label="Team settings">
        <div className="toolbar">
          <h1>{spec.name ?? "Team"}</h1>
          <button type="button" onClick={() => void save()}>Save</button>
          <button type="button" className="primary" onClick={() => void saveAndRun()} disabled={!ok}>Save and run</button>
          <span role="status" className="muted">{status}</span>
        </div>
        <div className="field-row">
          <div className="field"><label htmlFor="team-name">name</label>
            <input id="team-name" value={spec.name ?? ""} onChange={(e) => update({ ...spec, name: e.target.value || null })} /></div>
          <div className="field grow"><label htmlFor="team-description">description</label>
            <input id="team-description" value={spec.description ?? ""} onChange={(e) => update({ ...spec, description: e.target.value || null })} /></div>
        </div>

        <h2>Agents</h2>
        <div className="agent-tabs" role="group" aria-label="Agents">
          {agentNames.map((name) => (
            <button key={name} type="button" aria-pressed={selected === name} onClick={() => setSelected(name)}
              style={{ borderColor: agentColour(name) }}>{name}</button>
          ))}
        </div>
        <form className="inline" onSubmit={addAgent}>
          <label htmlFor="new-agent">New agent</label>
          <input id="new-agent" value={newAgent} onChange={(e) => setNewAgent(e.target.value.replace(/\s/g, "_"))} placeholder="name" />
          <button type="submit" disabled={!newAgent.trim() || agentNames.includes(newAgent.trim())}>Add agent</button>
        </form>
        {agent && selected && (
          <fieldset className="agent" aria-label={`Agent ${selected}`}>
            <legend style={{ color: agentColour(selected) }}>{selected}</legend>
            <div className="field-row">
              <div className="field"><label htmlFor="agent-rename">rename</label>
                <input id="agent-rename" defaultValue={selected} key={selected}
                  onBlur={(e) => { const to = e.target.value.trim(); if (to && to !== selected && !agentNames.includes(to)) { update(renameAgent(spec, selected, to)); setSelected(to); } }} /></div>
              <button type="button" className="danger" onClick={() => removeAgent(selected)}>Remove agent</button>
            </div>
            <SchemaForm schema={def("AgentSpec")} value={agent} onChange={(v) => setAgent(selected, v)} ctx={ctx} />
          </fieldset>
        )}

        <h2>Group chat</h2>
        {groupChatNames.length === 0 ? (
          <p>No group chat. <button type="button" onClick={addGroupChat}>Add a group chat</button></p>
        ) : (
          <>
            {groupChatNames.length > 1 && (
              <div className="field"><label htmlFor="chat-pick">group chat</label>
                <select id="chat-pick" value={currentChat} onChange={(e) => setChatName(e.target.value)}>
                  {groupChatNames.map((g) => <option key={g}>{g}</option>)}
                </select></div>
            )}
            <p className="muted">
              Speaker transitions: drag from an agent’s lower handle to another agent’s upper handle, or use the form below; to remove one, select its arrow (click it, or Tab to it and press Enter) and press Delete.
              {!transitions && " None written: any agent may speak after any other; the first arrow starts the list."}
            </p>
            <TransitionGraph agents={chatAgents} transitions={transitions} onChange={setTransitions} />
            <TransitionList agents={chatAgents} transitions={transitions} onChange={setTransitions} />
            <SchemaForm schema={def("GroupChatSpec")} value={chat} onChange={setChat} ctx={ctx} skip={["allowed_or_disallowed_speaker_transitions"]} />
          </>
        )}

        <h2>Run</h2>
        <SchemaForm schema={def("RunSpec")} value={spec.run as Obj} onChange={(v) => update({ ...spec, run: v })} ctx={ctx} />
        <h2>Models</h2>
        <p className="muted">The server’s models: <code>config_list</code> refers to its <code>OAI_CONFIG_LIST</code> (a <code>filter_dict</code> picks entries); keys are never written here.</p>
        <NamedSections kind="model" items={(spec.models ?? {}) as Record<string, Obj>} schemaName="ModelSpec" ctx={ctx}
          fresh={() => ({ config_list: { env_or_file: "OAI_CONFIG_LIST" } })}
          onChange={(models) => update({ ...spec, models: Object.keys(models).length ? models : null })} />
        <h2>Tools</h2>
        <p className="muted">Functions by import path (<code>module:function</code>) from modules the server allows; the caller’s model proposes calls, the executor runs them.</p>
        <NamedSections kind="tool" items={(spec.tools ?? {}) as Record<string, Obj>} schemaName="ToolSpec" ctx={ctx}
          fresh={() => ({ function: "parley.spec.tools:calculator", caller: agentNames[0] ?? "", executor: agentNames[1] ?? agentNames[0] ?? "" })}
          onChange={(tools) => { const next: Spec = { ...spec, tools }; if (!Object.keys(tools).length) delete next.tools; update(next); }} />
      </section>

      <section className="builder-yaml" aria-label="YAML">
        <label htmlFor="yaml" className="h2">YAML</label>
        <textarea id="yaml" ref={yamlRef} className="mono" spellCheck={false} value={yamlText}
          onChange={(e) => onYaml(e.target.value)} aria-invalid={yamlError || (problems && problems.length) ? true : undefined}
          aria-describedby="validation" />
        <div id="validation" aria-live="polite" data-testid="validation">
          {yamlError ? <p className="error">YAML: {yamlError}</p>
            : validating && problems === null ? <p className="muted">Validating…</p>
            : problems === null ? null
            : problems.length === 0 ? <><p className="ok">Valid.</p>{notes.map((n, i) => <p key={i} className="muted">{n}</p>)}</>
            : (
              <ul className="problems">
                {problems.map((p, i) => (
                  <li key={i}>
                    <button type="button" className="link" onClick={() => jumpToLine(p.line)}>
                      {p.path}{p.line ? ` (line ${p.line})` : ""}
                    </button>: {p.message}
                  </li>
                ))}
              </ul>
            )}
        </div>
      </section>
    </div>
  );
}

/** The transitions as a list, editable by keyboard: the graph's accessible twin. */
function TransitionList({ agents, transitions, onChange }: { agents: string[]; transitions: Transitions | null; onChange: (t: Transitions) => void }) {
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const pairs = Object.entries(transitions ?? {}).flatMap(([f, ts]) => ts.map((t) => [f, t] as const));
  return (
    <div className="transitions">
      <ul aria-label="Transitions" data-testid="transitions">
        {pairs.map(([f, t]) => (
          <li key={`${f}->${t}`}>
            {f} → {t}{" "}
            <button type="button" className="link" aria-label={`Remove ${f} to ${t}`}
              onClick={() => onChange({ ...transitions, [f]: (transitions?.[f] ?? []).filter((x) => x !== t) })}>remove</button>
          </li>
        ))}
      </ul>
      <form className="inline" onSubmit={(e) => {
        e.preventDefault();
        if (!from || !to) return;
        const list = transitions?.[from] ?? [];
        if (!list.includes(to)) onChange({ ...(transitions ?? {}), [from]: [...list, to] });
      }}>
        <label htmlFor="tr-from">From</label>
        <select id="tr-from" value={from} onChange={(e) => setFrom(e.target.value)}>
          <option value="">—</option>{agents.map((a) => <option key={a}>{a}</option>)}
        </select>
        <label htmlFor="tr-to">to</label>
        <select id="tr-to" value={to} onChange={(e) => setTo(e.target.value)}>
          <option value="">—</option>{agents.map((a) => <option key={a}>{a}</option>)}
        </select>
        <button type="submit" disabled={!from || !to}>Add transition</button>
      </form>
    </div>
  );
}

/** Named entries of one kind (models, tools): each a schema form, added and removed by name. */
function NamedSections({ kind, items, schemaName, ctx, fresh, onChange }: {
  kind: string; items: Record<string, Obj>; schemaName: string; ctx: FormContext; fresh: () => Obj; onChange: (items: Record<string, Obj>) => void;
}) {
  const [name, setName] = useState("");
  const taken = name.trim() in items;
  return (
    <>
      {Object.entries(items).map(([key, value]) => (
        <fieldset key={key} className="agent" aria-label={`${kind} ${key}`}>
          <legend>{key}</legend>
          <SchemaForm schema={def(schemaName)} value={value} ctx={ctx} onChange={(v) => onChange({ ...items, [key]: v })} />
          <button type="button" className="danger" onClick={() => { const next = { ...items }; delete next[key]; onChange(next); }}>Remove {kind}</button>
        </fieldset>
      ))}
      <form className="inline" onSubmit={(e) => { e.preventDefault(); if (name.trim() && !taken) { onChange({ ...items, [name.trim()]: fresh() }); setName(""); } }}>
        <label htmlFor={`new-${kind}`}>New {kind}</label>
        <input id={`new-${kind}`} value={name} onChange={(e) => setName(e.target.value.replace(/\s/g, "_"))} placeholder="name" />
        <button type="submit" disabled={!name.trim() || taken}>Add {kind}</button>
      </form>
    </>
  );
}
