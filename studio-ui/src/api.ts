// The Studio's JSON API (issue #18's contract). Authentication: the page is opened with `?token=T`;
// the token is kept for this tab (sessionStorage) and removed from the address bar. A login session
// is kept the same way. Either goes as a Bearer header (on a WebSocket, as a subprotocol); nothing
// is kept in a cookie, since browsers send cookies to every port on the host.

const TOKEN_KEY = "parley-studio-token";
const SESSION_KEY = "parley-studio-session";

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

/** The login session when there is one, else the access token. */
function credential(): string | null {
  return sessionStorage.getItem(SESSION_KEY) ?? sessionStorage.getItem(TOKEN_KEY);
}

function authHeaders(): Record<string, string> {
  const value = credential();
  return value ? { Authorization: `Bearer ${value}` } : {};
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
  const send = () => {
    const headers: Record<string, string> = { Accept: "application/json", ...authHeaders() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, { method, headers, credentials: "omit", body: body === undefined ? undefined : JSON.stringify(body) });
  };
  let response = await send();
  if (response.status === 401 && sessionStorage.getItem(SESSION_KEY) !== null) {
    sessionStorage.removeItem(SESSION_KEY); // expired or ended: back to the token (the page asks to log in)
    response = await send();
  }
  if (path === "/api/logout") sessionStorage.removeItem(SESSION_KEY);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text */
  }
  if (!response.ok) throw new ApiError(response.status, detailText(parsed, response.status), parsed);
  if (path === "/api/login" && parsed && typeof parsed === "object" && "session" in parsed)
    sessionStorage.setItem(SESSION_KEY, String((parsed as { session: unknown }).session));
  return parsed as T;
}

/** Downloads a response as a file (exports need the auth header, so no plain link). */
export async function download(path: string, filename: string): Promise<void> {
  const response = await fetch(path, { headers: authHeaders(), credentials: "omit" });
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

/** base64url without padding: a subprotocol may hold only token characters. */
function base64url(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The run's event stream: everything recorded first, then live. A browser can't set headers on a
 * WebSocket, so the credential goes as the subprotocol `parley-auth.<base64url>`; the server
 * selects `parley-studio` and checks the Origin header. */
export function eventsSocket(runId: string): WebSocket {
  const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
  const value = credential();
  const protocols = ["parley-studio", ...(value ? [`parley-auth.${base64url(value)}`] : [])];
  return new WebSocket(`${proto}//${window.location.host}/api/runs/${encodeURIComponent(runId)}/events`, protocols);
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
