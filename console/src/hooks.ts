import { useCallback, useEffect, useRef, useState } from 'react';

/**
 * `run` at most once per `ms`, the last call never lost: for reading again after pushed
 * events (a list after mailingsChanged, a count after clientsChanged), however many come.
 */
export function useThrottled(run: () => void, ms: number): () => void {
  const latest = useRef(run);
  latest.current = run;
  const state = useRef<{ last: number; timer?: number }>({ last: 0 });
  useEffect(() => () => clearTimeout(state.current.timer), []);
  return useCallback(() => {
    const s = state.current;
    if (s.timer !== undefined) return;
    s.timer = window.setTimeout(() => {
      s.timer = undefined;
      s.last = Date.now();
      latest.current();
    }, Math.max(0, s.last + ms - Date.now()));
  }, [ms]);
}

/** `value`, once it has stayed the same for `ms` (compared by its JSON). */
export function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  const key = JSON.stringify(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [key, ms]);
  return settled;
}

export type Pages = ReturnType<typeof usePages>;

/** Relay-style paging forward and back: the cursors of the pages seen so far. */
export function usePages(resetKey: string) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  useEffect(() => setCursors([null]), [resetKey]);
  return {
    after: cursors.at(-1) ?? null,
    page: cursors.length,
    next: (endCursor: string | null | undefined) => endCursor && setCursors((c) => [...c, endCursor]),
    previous: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
    reset: () => setCursors([null]),
  };
}
