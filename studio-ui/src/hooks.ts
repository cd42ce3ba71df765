import { useCallback, useEffect, useState } from "react";
import { api } from "./api";

/** GET a path; returns data, error text, and a reload function. */
export function useApi<T>(path: string | null): { data: T | undefined; error: string | undefined; reload: () => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) return;
    let live = true;
    api<T>("GET", path)
      .then((d) => { if (live) { setData(d); setError(undefined); } })
      .catch((e: Error) => { if (live) setError(e.message); });
    return () => { live = false; };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload };
}
