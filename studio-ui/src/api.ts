// The Studio's JSON API (issue #18's contract). Authentication: the server sets a cookie when the
// page is opened with `?token=T`; the token is also kept for this tab and sent as a Bearer header,
// so the API works even where the cookie is not set. The token is removed from the address bar.

const TOKEN_KEY = "parley-studio-token";

function takeTokenFromUrl(): void {
  const url = new URL(window.location.href);
  const token = url.searchParams.get("token");
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    url.searchParams.delete("token");
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
}
takeTokenFromUrl();

function authHeaders(): Record<string, string> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public body: unknown,
  ) {
    super(message);
  }
}

/** FastAPI's `detail` (a string or a list of {loc, msg}) as one line of text. */
function detailText(body: unknown, status: number): string {
  if (body && typeof body === "object" && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail))
      return detail
        .map((d) => (typeof d === "object" && d && "msg" in d ? `${(d as { loc?: unknown[] }).loc?.join(".") ?? ""}: ${(d as { msg: string }).msg}` : String(d)))
        .join("; ");
    return JSON.stringify(detail);
  }
  return `HTTP ${status}`;
}

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...authHeaders() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text */
  }
  if (!response.ok) throw new ApiError(response.status, detailText(parsed, response.status), parsed);
  return parsed as T;
}

/** Downloads a response as a file (exports need the auth header, so no plain link). */
export async function download(path: string, filename: string): Promise<void> {
  const response = await fetch(path, { headers: authHeaders(), credentials: "same-origin" });
  if (!response.ok) throw new ApiError(response.status, `export failed: HTTP ${response.status}`, null);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The run's event stream: everything recorded first, then live. Browsers send the auth cookie
 * with the WebSocket handshake (same origin); the server checks the Origin header. */
export function eventsSocket(runId: string): WebSocket {
  const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
  return new WebSocket(`${proto}//${window.location.host}/api/runs/${encodeURIComponent(runId)}/events`);
}

export type Spec = Record<string, unknown> & {
  version?: number;
  name?: string | null;
  description?: string | null;
  agents?: Record<string, Record<string, unknown>>;
  group_chats?: Record<string, Record<string, unknown>> | null;
  models?: Record<string, unknown> | null;
  run?: Record<string, unknown>;
};

export interface GalleryItem {
  name: string;
  description?: string | null;
  spec?: Spec;
  yaml?: string;
}

export interface SavedTeam {
  id: string;
  name?: string | null;
  description?: string | null;
  spec?: Spec;
  updated_at?: string;
}

/** A run as the server lists it (the run store's RunInfo plus the Studio's row). */
export interface RunSummary {
  id: string;
  status: string; // running, waiting_input, finished, interrupted, failed
  reason?: string | null;
  state?: string; // the Studio's: active, stopped, done
  live?: boolean; // running in this server now
  team?: string | null;
  team_id?: string | null;
  title?: string | null; // the first line of the first message
  created_at?: number | null;
  cost?: number | null;
  tokens?: number | null;
}

/** GET /api/runs/{id}: usage per model, the pending question. */
export interface RunDetail extends RunSummary {
  usage?: Record<string, { calls: number; prompt_tokens: number; completion_tokens: number; cost: number }>;
  input_request?: { prompt: string } | null;
}

export interface ValidationProblem {
  path: string;
  message: string;
  line?: number | null;
}

/** Lists arrive either bare or wrapped ({"teams": [...]}, {"items": [...]}); accept both. */
export function asList<T>(value: unknown, ...keys: string[]): T[] {
  if (Array.isArray(value)) return value as T[];
  if (value && typeof value === "object") {
    for (const key of [...keys, "items", "data", "results"]) {
      const inner = (value as Record<string, unknown>)[key];
      if (Array.isArray(inner)) return inner as T[];
    }
  }
  return [];
}
