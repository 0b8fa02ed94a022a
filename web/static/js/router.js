// Client-side routes on real paths (/t/ROOM, /people, ...), which the server answers with
// index.html.
import { useEffect, useState } from '../vendor/htm/standalone.module.js';

const listeners = new Set();

/** navigate shows path, adding a history entry (or replacing it). */
export function navigate(path, { replace = false } = {}) {
  if (path === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  for (const fn of listeners) fn();
}

window.addEventListener('popstate', () => {
  for (const fn of listeners) fn();
});

/** useRoute returns { path, params } and re-renders when the route changes. */
export function useRoute() {
  const [, set] = useState(0);
  useEffect(() => {
    const fn = () => set((n) => n + 1);
    listeners.add(fn);
    return () => listeners.delete(fn);
  }, []);
  return { path: location.pathname, params: new URLSearchParams(location.search) };
}

/** linkHandler makes a click on an <a href> navigate inside the app. */
export function linkHandler(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.currentTarget;
  e.preventDefault();
  navigate(a.getAttribute('href'));
}
