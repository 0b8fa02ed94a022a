// One message of a conversation: its bubble, reply quote, reactions and actions.
import { html, useState, useEffect, useRef } from '../../vendor/htm/standalone.module.js';
import { userName } from '../store.js';
import { clockTime, attachmentsText } from '../format.js';
import { Avatar, IconButton } from './common.js';
import { Attachments } from './attachments.js';

/** EMOJI are the reactions offered. */
export const EMOJI = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

function Picker({ onPick, onClose }) {
  const ref = useRef(null);
  useEffect(() => {
    const first = ref.current && ref.current.querySelector('button');
    if (first) first.focus();
    // A press anywhere else closes the picker (its own toggle button included).
    const outside = (e) => {
      const tools = ref.current && ref.current.parentElement;
      if (tools && !ref.current.contains(e.target) && !(e.target.closest && e.target.closest('[aria-label="React"]') && tools.contains(e.target))) onClose();
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, []);
  const onKey = (e) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
    }
  };
  return html`<div class="picker" role="group" aria-label="Reactions" ref=${ref} onKeyDown=${onKey}>
    ${EMOJI.map((e) => html`<button type="button" aria-label=${`React with ${e}`} onClick=${() => { onPick(e); onClose(); }}>${e}</button>`)}
  </div>`;
}

function Reactions({ m, me, onToggle }) {
  if (!m.reactions || !m.reactions.length) return null;
  return html`<div class="reactions">
    ${m.reactions.map((r) => {
      const mine = r.user_ids.includes(me);
      const who = r.user_ids.map(userName).join(', ');
      return html`<button type="button" class="reaction ${mine ? 'mine' : ''}" aria-pressed=${mine}
        aria-label=${`${r.emoji} ${r.count}: ${who}`} title=${who} onClick=${() => onToggle(r.emoji)}>
        <span aria-hidden="true">${r.emoji}${r.count > 1 ? html` <span class="count">${r.count}</span>` : null}</span>
      </button>`;
    })}
  </div>`;
}

/**
 * Message renders one message. pos tells where it sits in a run of messages from the same
 * sender ('single', 'first', 'middle', 'last'), which shapes the bubble's corners.
 */
export function Message({ m, me, senderUser, group, pos, showName, replied, status, onReply, onEdit, onUnsend, onReact, pending, failed, onRetry, onDiscard }) {
  const [picking, setPicking] = useState(false);
  const mine = m.sender_id === me;
  const sender = userName(m.sender_id);
  const showAvatar = !mine && (pos === 'last' || pos === 'single');
  const u = senderUser || {};
  const time = m.created_at ? clockTime(m.created_at) : '';
  const atts = (!m.deleted && m.attachments) || [];
  const who = `${mine ? 'You' : sender}${time ? `, ${time}` : ''}: `;
  const quote = m.reply_to
    ? html`<div class="reply-quote">
        <span class="reply-who">${mine ? 'You' : sender} replied to ${replied ? (replied.sender_id === me ? (mine ? 'yourself' : 'you') : userName(replied.sender_id)) : 'a message'}</span>
        <span class="reply-body">${replied ? (replied.deleted ? 'Message unsent' : replied.body || attachmentsText(replied.attachments)) : 'Original message not loaded'}</span>
      </div>`
    : null;
  return html`<div class="msg ${mine ? 'mine' : 'theirs'} pos-${pos} ${pending ? 'pending' : ''}" data-seq=${m.seq || undefined}>
    ${!mine && html`<span class="msg-avatar">${showAvatar ? html`<${Avatar} id=${m.sender_id} name=${sender} url=${u.avatar_url} size="xs" />` : null}</span>`}
    <div class="msg-col">
      ${group && showName && !mine && html`<div class="msg-sender" aria-hidden="true">${sender}</div>`}
      ${quote}
      <div class="msg-line">
        <div class="msg-body">
          ${atts.length ? html`<span class="sr-only">${who}${attachmentsText(atts)}</span>` : null}
          <${Attachments} list=${atts} />
          ${m.body || m.deleted || !atts.length ? html`<div class="bubble ${m.deleted ? 'deleted' : ''}" title=${time}>
            ${!atts.length && html`<span class="sr-only">${who}</span>`}
            ${m.deleted ? html`<span class="unsent">${mine ? 'You unsent a message' : `${sender} unsent a message`}</span>` : html`<span class="text">${m.body}</span>`}
            ${m.edited_at && !m.deleted ? html`<span class="edited"> · Edited</span>` : null}
          </div>` : null}
        </div>
        ${!m.deleted && !pending && html`<div class="msg-tools">
          <${IconButton} icon="smile" label="React" onClick=${() => setPicking(!picking)} aria-expanded=${picking} />
          <${IconButton} icon="reply" label="Reply" onClick=${onReply} />
          ${mine && m.body && html`<${IconButton} icon="edit" label="Edit" onClick=${onEdit} />`}
          ${mine && html`<${IconButton} icon="trash" label="Unsend" onClick=${onUnsend} />`}
          ${picking && html`<${Picker} onPick=${onReact} onClose=${() => setPicking(false)} />`}
        </div>`}
      </div>
      <${Reactions} m=${m} me=${me} onToggle=${onReact} />
      ${status && html`<div class="msg-status ${failed ? 'failed' : ''}" aria-live="polite">${status}
        ${failed && html` <button type="button" class="link" onClick=${onRetry}>Retry</button> · <button type="button" class="link" onClick=${onDiscard}>Remove</button>`}
      </div>`}
    </div>
  </div>`;
}
