// The photos and files of a message: photos as thumbnails in boxes of their own shape (so the
// history does not jump when they load) that open full size in a dialog, files as chips with
// a download button. Every byte is fetched with the access token and shown via blob: URLs.
import { html, useState, useEffect, useRef } from '../../vendor/htm/standalone.module.js';
import { useBlobURL, saveFile } from '../media.js';
import { fileSize } from '../format.js';
import { Icon, IconButton, errorText } from './common.js';

const THUMB_MAX = 240; // CSS pixels a side

/** fit returns the width and height of a w×h picture scaled into a max×max box. */
export function fit(w, h, max = THUMB_MAX) {
  if (!(w > 0 && h > 0)) return [max, Math.round((max * 3) / 4)];
  const k = Math.min(1, max / Math.max(w, h));
  return [Math.max(40, Math.round(w * k)), Math.max(40, Math.round(h * k))];
}

function Photo({ att, onOpen }) {
  const { src, failed } = useBlobURL(att.thumbnail_url || att.url);
  const [w, h] = fit(att.width, att.height);
  const style = { width: `${w}px`, aspectRatio: `${w} / ${h}` };
  return html`<button type="button" class="att-photo ${src ? 'loaded' : ''}" style=${style}
    aria-label=${`Open photo ${att.name}`} onClick=${onOpen}>
    ${src ? html`<img src=${src} alt="" width=${w} height=${h} />` : null}
    ${failed ? html`<span class="att-missing"><${Icon} name="photo" /> Photo unavailable</span>` : null}
  </button>`;
}

/** Download is a button that saves an attachment under its name. */
function Download({ att, label, className = '' }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const go = async () => {
    if (busy) return;
    setBusy(true);
    setError('');
    try {
      await saveFile(att);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<${IconButton} icon="download" label=${label || `Download ${att.name}`} onClick=${go}
    className=${`${className} ${busy ? 'busy' : ''}`} aria-busy=${busy} />
    ${error && html`<span class="att-error" role="alert">${error}</span>`}`;
}

function FileChip({ att }) {
  return html`<div class="att-file">
    <span class="att-file-icon"><${Icon} name="file" /></span>
    <span class="att-file-text">
      <span class="att-file-name">${att.name}</span>
      <span class="att-file-size">${fileSize(att.size)}</span>
    </span>
    <${Download} att=${att} />
  </div>`;
}

/**
 * Viewer shows a photo full size in a modal dialog: Escape, the close button or a click
 * beside the photo closes it, and focus goes back where it was.
 */
export function Viewer({ att, onClose }) {
  const ref = useRef(null);
  const full = useBlobURL(att.url);
  const thumb = useBlobURL(att.thumbnail_url || '');
  useEffect(() => {
    const d = ref.current;
    const back = document.activeElement;
    if (d && !d.open) d.showModal();
    return () => {
      if (d && d.open) d.close();
      if (back && back.focus) back.focus();
    };
  }, []);
  const src = full.src || thumb.src;
  const close = () => ref.current && ref.current.close();
  return html`<dialog ref=${ref} class="viewer" aria-label=${`Photo ${att.name}`} onClose=${onClose}
    onClick=${(e) => { if (e.target === e.currentTarget || e.target.classList.contains('viewer-stage')) close(); }}>
    <div class="viewer-bar">
      <span class="viewer-name clip">${att.name}</span>
      <${Download} att=${att} className="on-dark" />
      <${IconButton} icon="close" label="Close photo" onClick=${close} className="on-dark" />
    </div>
    <div class="viewer-stage">
      ${src ? html`<img src=${src} alt=${att.name} width=${att.width || undefined} height=${att.height || undefined} />` : null}
      ${!src && !full.failed ? html`<p class="viewer-note" role="status">Loading…</p>` : null}
      ${full.failed && !src ? html`<p class="viewer-note" role="alert">The photo could not be loaded.</p>` : null}
    </div>
  </dialog>`;
}

/** Attachments lays out the photos and files of a message. */
export function Attachments({ list }) {
  const [open, setOpen] = useState(null);
  if (!list || !list.length) return null;
  const photos = list.filter((a) => a.kind === 'image');
  const files = list.filter((a) => a.kind !== 'image');
  return html`<div class="atts">
    ${photos.length ? html`<div class="att-photos ${photos.length > 1 ? 'many' : ''}">
      ${photos.map((a) => html`<${Photo} key=${a.id} att=${a} onOpen=${() => setOpen(a)} />`)}
    </div>` : null}
    ${files.map((a) => html`<${FileChip} key=${a.id} att=${a} />`)}
    ${open && html`<${Viewer} att=${open} onClose=${() => setOpen(null)} />`}
  </div>`;
}
