// The strip above the composer: photos and files picked for the next message, each with its
// upload progress, its error if it failed, and a button to take it off.
import { html } from '../../vendor/htm/standalone.module.js';
import * as uploads from '../uploads.js';
import { fileSize } from '../format.js';
import { Icon, IconButton } from './common.js';

function Item({ roomId, u }) {
  const pct = Math.round(u.progress * 100);
  return html`<li class="upload ${u.status}">
    <span class="upload-thumb">
      ${u.preview ? html`<img src=${u.preview} alt="" />` : html`<${Icon} name="file" />`}
    </span>
    <span class="upload-text">
      <span class="upload-name clip">${u.name}</span>
      ${u.status === 'uploading' && html`<progress max="100" value=${pct} aria-label=${`Uploading ${u.name}`}></progress>`}
      ${u.status === 'ready' && html`<span class="muted small">${fileSize(u.size)}</span>`}
      ${u.status === 'failed' && html`<span class="upload-error small">Not uploaded</span>`}
    </span>
    ${u.status === 'failed' && html`<${IconButton} icon="retry" label=${`Upload ${u.name} again`} onClick=${() => uploads.retry(roomId, u.key)} />`}
    <${IconButton} icon="close" label=${`Remove ${u.name}`} onClick=${() => uploads.remove(roomId, u.key)} />
  </li>`;
}

/** UploadStrip lists the files picked for the next message of a room, and their errors. */
export function UploadStrip({ s, roomId }) {
  const list = s.uploads.get(roomId) || [];
  if (!list.length) return null;
  const errors = list.filter((u) => u.status === 'failed').map((u) => u.error);
  const busy = list.filter((u) => u.status === 'uploading').length;
  return html`<div class="uploads-wrap">
    <ul class="uploads" aria-label="Photos and files to send">
      ${list.map((u) => html`<${Item} key=${u.key} roomId=${roomId} u=${u} />`)}
    </ul>
    <p class="sr-only" role="status">${busy ? `Uploading ${busy} file${busy > 1 ? 's' : ''}…` : ''}</p>
    ${errors.map((e) => html`<p class="form-error" role="alert">${e}</p>`)}
  </div>`;
}
