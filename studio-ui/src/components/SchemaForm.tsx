import { useEffect, useId, useState } from "react";
import { type JsonSchema, variants, resolve } from "../schema";

// One form control per schema property. A control left empty removes the key: a setting that
// is not written keeps the class's own default, as in Python, and the document stays minimal.

type Obj = Record<string, unknown>;

export interface FormContext {
  agentNames: string[];
  modelNames: string[];
  groupChatNames: string[];
}

const LONG_TEXT = /message|template|description/;
const AGENT_REFERENCES = new Set(["initiator", "recipient", "sender", "caller", "executor"]);

function setKey(value: Obj, key: string, next: unknown): Obj {
  const copy = { ...value };
  if (next === undefined || next === "") delete copy[key];
  else copy[key] = next;
  return copy;
}

function label(key: string): string {
  return key.replace(/_/g, " ");
}

/** JSON text for values no simpler control fits (lists of objects, maps). */
function JsonField({ id, value, onChange }: { id: string; value: unknown; onChange: (v: unknown) => void }) {
  const [text, setText] = useState(value === undefined ? "" : JSON.stringify(value));
  const [error, setError] = useState<string>();
  useEffect(() => setText(value === undefined ? "" : JSON.stringify(value)), [value]);
  return (
    <>
      <input
        id={id}
        className="mono"
        value={text}
        placeholder="JSON (empty: default)"
        aria-invalid={error ? true : undefined}
        onChange={(e) => setText(e.target.value)}
        onBlur={() => {
          if (text.trim() === "") { setError(undefined); onChange(undefined); return; }
          try { onChange(JSON.parse(text)); setError(undefined); } catch (e) { setError((e as Error).message); }
        }}
      />
      {error && <span className="field-error">{error}</span>}
    </>
  );
}

function TriState({ id, value, onChange }: { id: string; value: unknown; onChange: (v: unknown) => void }) {
  return (
    <select id={id} value={value === true ? "true" : value === false ? "false" : ""}
      onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value === "true")}>
      <option value="">(default)</option>
      <option value="true">true</option>
      <option value="false">false</option>
    </select>
  );
}

function NamesPicker({ names, value, onChange, legend }: { names: string[]; value: unknown; onChange: (v: unknown) => void; legend: string }) {
  const chosen = Array.isArray(value) ? (value as string[]) : [];
  return (
    <fieldset className="names">
      <legend>{legend}</legend>
      {names.map((name) => (
        <label key={name} className="check">
          <input type="checkbox" checked={chosen.includes(name)}
            onChange={(e) => onChange(e.target.checked ? [...chosen, name] : chosen.filter((n) => n !== name))} />
          {name}
        </label>
      ))}
    </fieldset>
  );
}

export function Field({ name, prop, value, onChange, ctx }: { name: string; prop: JsonSchema; value: unknown; onChange: (v: unknown) => void; ctx: FormContext }) {
  const id = useId();
  const vs = variants(prop);
  const types = vs.map((v) => (v.const === false ? "false" : v.enum ? "enum" : (v.type as string) ?? (v.properties ? "object" : "any")));
  let control: JSX.Element;

  if (name === "llm_config") {
    control = (
      <select id={id} value={value === false ? "__false" : typeof value === "string" ? value : ""}
        onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value === "__false" ? false : e.target.value)}>
        <option value="">(default)</option>
        <option value="__false">false (no model)</option>
        {ctx.modelNames.map((m) => <option key={m} value={m}>{m}</option>)}
        {typeof value === "string" && !ctx.modelNames.includes(value) && <option value={value}>{value} (missing)</option>}
      </select>
    );
  } else if (name === "speaker_selection_method") {
    // A word, or a module:function path the server allows.
    control = (
      <>
        <input id={id} list={`${id}-methods`} value={typeof value === "string" ? value : ""} placeholder="(default): auto"
          onChange={(e) => onChange(e.target.value || undefined)} />
        <datalist id={`${id}-methods`}>
          {["auto", "manual", "random", "round_robin"].map((m) => <option key={m} value={m} />)}
        </datalist>
      </>
    );
  } else if (AGENT_REFERENCES.has(name) && vs.length === 1 && vs[0].type === "string" && !vs[0].enum) {
    // A setting that names an agent (the run's initiator, a tool's caller): one of the team's.
    control = (
      <select id={id} value={typeof value === "string" ? value : ""} onChange={(e) => onChange(e.target.value || undefined)}>
        <option value="">{prop.anyOf ? "(default)" : "choose…"}</option>
        {ctx.agentNames.map((a) => <option key={a} value={a}>{a}</option>)}
        {typeof value === "string" && value && !ctx.agentNames.includes(value) && <option value={value}>{value} (missing)</option>}
      </select>
    );
  } else if (name === "config_list" && Array.isArray(value)) {
    control = <JsonField id={id} value={value} onChange={onChange} />;
  } else if (name === "groupchat") {
    control = (
      <select id={id} value={typeof value === "string" ? value : ""} onChange={(e) => onChange(e.target.value || undefined)}>
        <option value="">(none)</option>
        {ctx.groupChatNames.map((g) => <option key={g} value={g}>{g}</option>)}
      </select>
    );
  } else if (name === "agents" && types[0] === "array") {
    return <NamesPicker names={ctx.agentNames} value={value} onChange={onChange} legend="agents" />;
  } else if (vs.some((v) => v.properties) && vs.length <= 2 && !vs.some((v) => typeof v.additionalProperties === "object")) {
    // A nested settings object (code_execution_config, is_termination_msg): on/off, then its fields.
    const obj = vs.find((v) => v.properties)!;
    const allowsFalse = types.includes("false");
    const mode = value === false ? "false" : value && typeof value === "object" ? "set" : "";
    return (
      <fieldset className="sub">
        <legend>
          <label htmlFor={id}>{label(name)}</label>{" "}
          <select id={id} value={mode} onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value === "false" ? false : (value && typeof value === "object" ? value : {}))}>
            <option value="">(default)</option>
            {allowsFalse && <option value="false">false (off)</option>}
            <option value="set">set…</option>
          </select>
        </legend>
        {mode === "set" && (
          <SchemaForm schema={obj} value={value as Obj} onChange={onChange} ctx={ctx} />
        )}
      </fieldset>
    );
  } else if (vs.length === 1 && vs[0].enum) {
    control = (
      <select id={id} value={typeof value === "string" ? value : ""} onChange={(e) => onChange(e.target.value || undefined)}>
        <option value="">(default)</option>
        {vs[0].enum.map((v) => <option key={String(v)} value={String(v)}>{String(v)}</option>)}
      </select>
    );
  } else if (vs.length === 1 && vs[0].type === "string") {
    control = LONG_TEXT.test(name) ? (
      <textarea id={id} rows={3} value={typeof value === "string" ? value : ""} onChange={(e) => onChange(e.target.value || undefined)} />
    ) : (
      <input id={id} value={typeof value === "string" ? value : ""} onChange={(e) => onChange(e.target.value || undefined)} />
    );
  } else if (vs.length === 1 && vs[0].type === "integer") {
    control = (
      <input id={id} type="number" min={vs[0].minimum} value={typeof value === "number" ? value : ""}
        onChange={(e) => onChange(e.target.value === "" ? undefined : Number(e.target.value))} />
    );
  } else if (vs.length === 1 && vs[0].type === "number") {
    control = (
      <input id={id} type="number" step="any" value={typeof value === "number" ? value : ""}
        onChange={(e) => onChange(e.target.value === "" ? undefined : Number(e.target.value))} />
    );
  } else if (vs.length === 1 && vs[0].type === "boolean") {
    control = <TriState id={id} value={value} onChange={onChange} />;
  } else if (types.every((t) => t === "integer" || t === "string") && vs.some((v) => v.const !== undefined)) {
    // An integer or a word (last_n_messages: 3 or "auto").
    control = (
      <input id={id} value={value === undefined ? "" : String(value)} placeholder="(default)"
        onChange={(e) => { const t = e.target.value.trim(); onChange(t === "" ? undefined : /^\d+$/.test(t) ? Number(t) : t); }} />
    );
  } else if (types.length === 1 && types[0] === "any") {
    // use_docker: false, true, or an image name.
    control = (
      <input id={id} value={value === undefined ? "" : String(value)} placeholder="(default): false, true or an image"
        onChange={(e) => { const t = e.target.value.trim(); onChange(t === "" ? undefined : t === "false" ? false : t === "true" ? true : t); }} />
    );
  } else {
    control = <JsonField id={id} value={value} onChange={onChange} />;
  }
  return (
    <div className="field">
      <label htmlFor={id}>{label(name)}</label>
      {control}
    </div>
  );
}

export function SchemaForm({ schema, value, onChange, ctx, skip = [] }: { schema: JsonSchema; value: Obj | undefined; onChange: (v: Obj) => void; ctx: FormContext; skip?: string[] }) {
  const s = resolve(schema);
  const current = value ?? {};
  return (
    <div className="form">
      {Object.entries(s.properties ?? {})
        .filter(([key]) => !skip.includes(key))
        .map(([key, prop]) => (
          <Field key={key} name={key} prop={prop} value={current[key]} ctx={ctx}
            onChange={(next) => onChange(setKey(current, key, next))} />
        ))}
    </div>
  );
}
