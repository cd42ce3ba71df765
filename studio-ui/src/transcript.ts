// Folding the run's event stream (JSON objects whose `type` is the parley event class name)
// into the transcript the playground shows. Pure: the same events give the same transcript, so
// a reconnect (the server sends everything recorded again) and a replay just fold again.

export type RunEvent = Record<string, unknown> & { type: string };

export type ContentPart = { kind: "text"; text: string } | { kind: "image"; url: string };

export type Item =
  | { kind: "message"; sender: string; recipient: string; parts: ContentPart[]; toolCalls: { name: string; arguments: string }[]; toolResult: boolean; codeResult: boolean }
  | { kind: "stream"; agent: string; text: string }
  | { kind: "tool"; agent: string; tool: string; arguments: string; result: string; ok: boolean }
  | { kind: "code"; agent: string; language: string; code: string; exitCode: number; output: string; executor: string }
  | { kind: "speaker"; speaker: string; round: number }
  | { kind: "human"; agent: string; prompt: string; reply?: string; unanswered?: boolean }
  | { kind: "finished"; reason: string; summary: string; nested: boolean }
  | { kind: "notice"; text: string; level: string }
  | { kind: "retrieval"; agent: string; query: string; collection: string; sources: { id: string; source: string; distance: number | null }[]; used: string[] }
  | { kind: "recalled"; agent: string; query: string; memos: { id: string; input: string; output: string; distance: number | null }[] }
  | { kind: "memo"; agent: string; memoId: string; input: string; output: string };

export interface Transcript {
  items: Item[];
  pending: { agent: string; prompt: string } | null;
  usage: { prompt: number; completion: number; cost: number; calls: number };
  status: string | null;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const records = (v: unknown): Record<string, unknown>[] =>
  Array.isArray(v) ? v.filter((r): r is Record<string, unknown> => !!r && typeof r === "object") : [];

const str = (v: unknown): string => (v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v));

/** Only data: images and http(s) URLs become image parts; anything else is shown as text (the
 * page shows data: and same-origin images, and remote ones only as a link: see isInlineImage). */
function safeImageUrl(url: string): boolean {
  return /^data:image\/(png|jpeg|gif|webp);/i.test(url) || /^https?:\/\//i.test(url);
}

export function contentParts(content: unknown): ContentPart[] {
  if (typeof content === "string") return content ? [{ kind: "text", text: content }] : [];
  if (Array.isArray(content)) {
    return content.flatMap((part): ContentPart[] => {
      if (typeof part === "string") return [{ kind: "text", text: part }];
      if (part && typeof part === "object") {
        const p = part as Record<string, unknown>;
        if (p.type === "text") return [{ kind: "text", text: str(p.text) }];
        if (p.type === "image_url") {
          const url = str((p.image_url as Record<string, unknown> | undefined)?.url ?? p.image_url);
          return safeImageUrl(url) ? [{ kind: "image", url }] : [{ kind: "text", text: `[image: ${url.slice(0, 80)}]` }];
        }
      }
      return [{ kind: "text", text: str(part) }];
    });
  }
  return content === undefined || content === null ? [] : [{ kind: "text", text: str(content) }];
}

export function fold(events: RunEvent[]): Transcript {
  const items: Item[] = [];
  let pending: Transcript["pending"] = null;
  const usage = { prompt: 0, completion: 0, cost: 0, calls: 0 };
  let status: string | null = null;
  const openStream = new Map<string, number>(); // agent -> index of its streaming item
  let depth = 0; // nested chats: ChatStarted/ChatFinished pairs

  // The run ended (stopped, failed) while the human was asked: the question is over; a resumed
  // run asks again with a new request.
  const unanswered = () => {
    pending = null;
    for (const it of items) if (it.kind === "human" && it.reply === undefined) it.unanswered = true;
  };

  for (const e of events) {
    switch (e.type) {
      case "TokenStreamed": {
        const agent = str(e.agent) || "model";
        const at = openStream.get(agent);
        if (at !== undefined) (items[at] as { text: string }).text += str(e.token);
        else { openStream.set(agent, items.length); items.push({ kind: "stream", agent, text: str(e.token) }); }
        break;
      }
      case "MessageSent": {
        const sender = str(e.sender);
        const message = (e.message ?? {}) as Record<string, unknown>;
        const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
        const parts = contentParts(message.content);
        const text = parts.map((p) => (p.kind === "text" ? p.text : "")).join("");
        const item: Item = {
          kind: "message", sender, recipient: str(e.recipient), parts,
          toolCalls: calls.map((c) => { const f = ((c as Record<string, unknown>).function ?? {}) as Record<string, unknown>; return { name: str(f.name), arguments: str(f.arguments) }; }),
          toolResult: message.role === "tool" || Array.isArray(message.tool_responses),
          codeResult: /^exitcode: -?\d+/.test(text),
        };
        const at = openStream.get(sender);
        if (at !== undefined) { items[at] = item; openStream.delete(sender); } // the streamed reply, now complete
        else items.push(item);
        break;
      }
      case "ToolCalled":
        items.push({ kind: "tool", agent: str(e.agent), tool: str(e.tool), arguments: str(e.arguments), result: str(e.result), ok: e.ok !== false });
        break;
      case "CodeExecuted":
        items.push({ kind: "code", agent: str(e.agent), language: str(e.language), code: str(e.code), exitCode: Number(e.exit_code ?? 0), output: str(e.output), executor: str(e.executor) });
        break;
      case "SpeakerSelected":
        items.push({ kind: "speaker", speaker: str(e.speaker), round: Number(e.round ?? 0) });
        break;
      case "HumanInputRequested":
        pending = { agent: str(e.agent), prompt: str(e.prompt) };
        items.push({ kind: "human", agent: pending.agent, prompt: pending.prompt });
        break;
      case "HumanInputReceived": {
        pending = null;
        for (let i = items.length - 1; i >= 0; i--) {
          const it = items[i];
          if (it.kind === "human" && it.reply === undefined) { it.reply = str(e.reply); break; }
        }
        break;
      }
      case "ModelCalled":
        usage.prompt += Number(e.prompt_tokens ?? 0);
        usage.completion += Number(e.completion_tokens ?? 0);
        usage.cost += Number(e.cost ?? 0);
        usage.calls += 1;
        break;
      case "ChatStarted":
        depth += 1;
        break;
      case "ChatFinished":
        depth = Math.max(0, depth - 1);
        if (depth === 0) unanswered();
        items.push({ kind: "finished", reason: str(e.reason), summary: str(e.summary), nested: depth > 0 });
        break;
      // Where an answer came from (parley.retrieval, Teachability): shown folded, as text.
      case "DocumentsRetrieved":
        items.push({
          kind: "retrieval", agent: str(e.agent), query: str(e.query), collection: str(e.collection),
          sources: records(e.results).map((r) => ({ id: str(r.id), source: str(r.source), distance: num(r.distance) })),
          used: Array.isArray(e.used) ? e.used.map(str) : [],
        });
        break;
      case "MemosRecalled":
        items.push({
          kind: "recalled", agent: str(e.agent), query: str(e.query),
          memos: records(e.memos).map((m) => ({ id: str(m.id), input: str(m.input), output: str(m.output), distance: num(m.distance) })),
        });
        break;
      case "MemoStored":
        items.push({ kind: "memo", agent: str(e.agent), memoId: str(e.memo_id), input: str(e.input), output: str(e.output) });
        break;
      case "Notice":
        items.push({ kind: "notice", text: str(e.text), level: str(e.level) || "info" });
        break;
      case "RunStatus": {
        unanswered();
        // The Studio's word on how the run ended (finished, failed, stopped, interrupted).
        status = str(e.status);
        const why = [e.reason, e.error].filter((v) => v !== undefined && v !== null && v !== "").map(str).join(": ");
        items.push({ kind: "notice", text: `run ${status}${why ? ` (${why})` : ""}`, level: status === "failed" ? "error" : "info" });
        break;
      }
      default:
        if (typeof e.status === "string") status = e.status;
    }
  }
  return { items, pending, usage, status };
}

/** Shown by itself: a data: image or one from the Studio's own origin. A remote image is loaded
 * only when clicked, since its URL could carry the conversation to someone else's server. */
export function isInlineImage(url: string, origin: string = window.location.origin): boolean {
  if (/^data:image\//i.test(url)) return true;
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}
