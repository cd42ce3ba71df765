import { useEffect, useState } from "react";

// Hash routes (#/builder?team=ID): the server serves one page, and every view has an address
// that can be bookmarked and reloaded.
export interface Route {
  path: string[];
  query: URLSearchParams;
}

function parse(): Route {
  const hash = window.location.hash.replace(/^#\/?/, "");
  const [path, query] = hash.split("?", 2);
  return { path: path ? path.split("/").map(decodeURIComponent) : [], query: new URLSearchParams(query ?? "") };
}

// A page with unsaved work (the builder) may hold a navigation: it returns false to stay.
let leaveGuard: (() => boolean) | null = null;
let currentHash = window.location.hash;
let approvedHash: string | null = null;

export function setLeaveGuard(guard: (() => boolean) | null): void {
  leaveGuard = guard;
}

// A click on an in-page link asks before the address changes, so declining leaves the address as
// it was; back/forward and typed addresses only reach hashchange, where the address is put back.
function onLinkClick(event: MouseEvent): void {
  if (!leaveGuard || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return; // a new tab or window
  const link = event.target instanceof Element ? event.target.closest("a[href^='#']") : null;
  if (!link || link.getAttribute("href") === window.location.hash) return;
  if (!leaveGuard()) {
    event.preventDefault();
    return;
  }
  approvedHash = link.getAttribute("href"); // asked once: the hashchange that follows goes through
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    document.addEventListener("click", onLinkClick, true);
    return () => document.removeEventListener("click", onLinkClick, true);
  }, []);
  useEffect(() => {
    const onChange = () => {
      const approved = approvedHash !== null && approvedHash === window.location.hash;
      approvedHash = null;
      if (leaveGuard && !approved && !leaveGuard()) {
        window.history.replaceState(null, "", currentHash || "#/"); // stay where the work is
        return;
      }
      currentHash = window.location.hash;
      setRoute(parse());
    };
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

export function href(path: string, query?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.set(k, v);
  const qs = q.toString();
  return `#/${path}${qs ? `?${qs}` : ""}`;
}

export function navigate(path: string, query?: Record<string, string | undefined>): void {
  window.location.hash = href(path, query);
}
