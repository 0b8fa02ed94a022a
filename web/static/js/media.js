// Pictures and files that need the access token: fetched once, shown through blob: URLs that
// are revoked once nothing on screen uses them, and saved under their own names.
import { useEffect, useState } from '../vendor/htm/standalone.module.js';
import { fetchBlob } from './api.js';

// How long an unused picture stays in memory, so that a re-render or a quick return to the
// conversation does not fetch it again.
const KEEP_MS = 60 * 1000;

const cache = new Map(); // url → { refs, promise, objectURL, timer }

/** acquire returns a promise of a blob: URL for url, counting one more user of it. */
export function acquire(url) {
  let e = cache.get(url);
  if (!e) {
    e = { refs: 0, objectURL: '', timer: 0, promise: null };
    e.promise = fetchBlob(url).then((blob) => {
      e.objectURL = URL.createObjectURL(blob);
      return e.objectURL;
    });
    // A failed fetch is forgotten, so that the next use tries again.
    e.promise.catch(() => {
      if (cache.get(url) === e) cache.delete(url);
    });
    cache.set(url, e);
  }
  clearTimeout(e.timer);
  e.refs += 1;
  return e.promise;
}

/** release counts one user less of url; the blob: URL is revoked a while after the last. */
export function release(url) {
  const e = cache.get(url);
  if (!e) return;
  e.refs -= 1;
  if (e.refs > 0) return;
  clearTimeout(e.timer);
  e.timer = setTimeout(() => {
    if (e.refs > 0) return;
    cache.delete(url);
    if (e.objectURL) URL.revokeObjectURL(e.objectURL);
  }, KEEP_MS);
}

/** forgetAll revokes every blob: URL (logout). */
export function forgetAll() {
  for (const e of cache.values()) {
    clearTimeout(e.timer);
    if (e.objectURL) URL.revokeObjectURL(e.objectURL);
  }
  cache.clear();
}

/**
 * useBlobURL returns { src, failed } for a server URL that needs the token: src is a blob:
 * URL once the bytes are here ('' until then), failed is set when they could not be had.
 */
export function useBlobURL(url) {
  const ready = url && cache.get(url);
  const [out, setOut] = useState({ src: (ready && ready.objectURL) || '', failed: false, url });
  useEffect(() => {
    if (!url) return undefined;
    let live = true;
    acquire(url).then(
      (src) => live && setOut({ src, failed: false, url }),
      () => live && setOut({ src: '', failed: true, url }),
    );
    return () => {
      live = false;
      release(url);
    };
  }, [url]);
  return out.url === url ? out : { src: '', failed: false, url };
}

/** saveFile downloads an attachment with the token and saves it under its own name. */
export async function saveFile(att) {
  const blob = await fetchBlob(att.url);
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = att.name || 'file';
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The browser reads the blob after the click returns: let it, then free the memory.
  setTimeout(() => URL.revokeObjectURL(href), 30 * 1000);
}
