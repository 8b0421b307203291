import { useSyncExternalStore, type MouseEvent, type ReactNode } from 'react';

// The console's few routes in the History API: /, /mailings, /mailings/new, /mailings/:id,
// /mailings/:id/edit, /clients, /clients/opt-outs, /inbound, /webhooks, /webhooks/:id. Herald answers each with the app (console.routes.ts).
// Also /mailings/:id/messages (its message browser) and /clients/:id (a client's page).
const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(to: string): void {
  history.pushState(null, '', to);
  listeners.forEach((l) => l());
  window.scrollTo(0, 0);
}

export function usePath(): string {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => location.pathname,
  );
}

export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  const follow = (event: MouseEvent) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={follow} className={className}>
      {children}
    </a>
  );
}
