// A conversation: its header, the scrollable history with day separators, the typing
// indicator and the composer.
import { html, useState, useEffect, useLayoutEffect, useRef } from '../../vendor/htm/standalone.module.js';
import { roomTitle, otherMember, userName, presenceOf, sortedMessages, roomMessages } from '../store.js';
import * as sync from '../sync.js';
import { activeText, dayKey, dayLabel, messageText } from '../format.js';
import { Icon, IconButton, IconLink, errorText } from './common.js';
import { RoomAvatar } from './sidebar.js';
import { Message } from './message.js';
import { RoomInfo } from './roominfo.js';
import { UploadStrip } from './uploads.js';
import * as uploads from '../uploads.js';

const RUN_GAP_MS = 5 * 60 * 1000; // messages further apart start a new run

/** status says how far the user's own message got: Sent, Delivered or Seen (by whom). */
function deliveryStatus(s, room, m) {
  const others = room.members.filter((x) => x.user_id !== s.me.id);
  const seenBy = others.filter((x) => (x.last_read_seq || 0) >= m.seq);
  if (seenBy.length) {
    if (room.type !== 'group') return 'Seen';
    if (seenBy.length === others.length) return 'Seen by everyone';
    return `Seen by ${seenBy.map((x) => userName(x.user_id).split(' ')[0]).join(', ')}`;
  }
  // There are no delivery receipts: a member who has been connected since the message was
  // stored has had it delivered to their device.
  const at = Date.parse(m.created_at);
  const delivered = others.some((x) => {
    const p = presenceOf(x.user_id);
    return p && (p.online || (p.last_seen && Date.parse(p.last_seen) > at));
  });
  return delivered ? 'Delivered' : 'Sent';
}

function Header({ s, room, infoOpen, toggleInfo }) {
  let sub = '';
  if (room.type === 'group') sub = `${room.members.length} members`;
  else {
    const other = otherMember(room);
    sub = other ? activeText(presenceOf(other.user_id)) : '';
  }
  return html`<header class="conv-head">
    <${IconLink} icon="back" label="Back to chats" href="/" className="phone-only" />
    <${RoomAvatar} s=${s} room=${room} size="sm" />
    <div class="conv-title">
      <h2>${roomTitle(room)}</h2>
      ${sub && html`<p class="muted small">${sub}</p>`}
    </div>
    <${IconButton} icon="info" label="Conversation information" onClick=${toggleInfo} aria-expanded=${infoOpen} className=${infoOpen ? 'on' : ''} />
  </header>`;
}

function TypingLine({ s, room }) {
  const t = s.typing.get(room.id);
  const now = Date.now();
  const who = t ? [...t].filter(([, until]) => until > now).map(([id]) => userName(id).split(' ')[0]) : [];
  let text = '';
  if (who.length === 1) text = `${who[0]} is typing…`;
  else if (who.length === 2) text = `${who[0]} and ${who[1]} are typing…`;
  else if (who.length > 2) text = 'Several people are typing…';
  return html`<div class="typing" aria-live="polite">${text && html`<span class="typing-dots" aria-hidden="true"><i></i><i></i><i></i></span>`}${text}</div>`;
}

/** offline tells that photos and files cannot be sent now (they are never queued). */
const offline = (s) => s.conn === 'offline' || !navigator.onLine;

const OFFLINE_NOTE = 'You are offline. Text you send waits for the network, but photos and files do not: send them when you are back online.';

function Composer({ s, room, replyTo, editing, onDone, error, setError }) {
  const ref = useRef(null);
  const picker = useRef(null);
  const canAttach = !s.attachmentsUnsupported && !editing;
  const grow = () => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  };
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.value = editing ? editing.body : el.dataset.draft || '';
    grow();
    el.focus();
  }, [editing && editing.seq, replyTo && replyTo.seq, room.id]);
  const submit = async () => {
    const el = ref.current;
    const body = el.value.trim();
    setError('');
    if (editing) {
      if (body && body !== editing.body) {
        try {
          await sync.editMessage(room.id, editing.seq, body);
        } catch (err) {
          setError(errorText(err));
          return;
        }
      }
      el.value = el.dataset.draft || '';
      onDone();
      grow();
      return;
    }
    const ups = s.uploads.get(room.id) || [];
    const ready = ups.filter((u) => u.status === 'ready');
    if (ups.some((u) => u.status === 'uploading')) {
      setError('Wait until the photos and files are uploaded, then send.');
      return;
    }
    if (!body && !ready.length) return;
    if (ready.length && offline(s)) {
      setError(OFFLINE_NOTE);
      return;
    }
    sync.typing(room.id, false);
    sync.send(room.id, body, replyTo ? replyTo.seq : null, ready.length ? uploads.takeReady(room.id) : []);
    el.value = '';
    el.dataset.draft = '';
    grow();
    onDone(true);
  };
  const onKey = (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && (editing || replyTo)) {
      e.preventDefault();
      onDone();
    } else if (e.key === 'ArrowUp' && !e.currentTarget.value && !editing) {
      // Up in an empty composer edits the last message you sent, as chat apps do.
      const mine = sortedMessages(room.id).filter((m) => m.sender_id === s.me.id && !m.deleted && m.body);
      if (mine.length) {
        e.preventDefault();
        onDone(false, mine[mine.length - 1]);
      }
    }
  };
  const attach = (files) => {
    if (!files.length) return;
    setError(offline(s) ? OFFLINE_NOTE : uploads.addFiles(room.id, files));
  };
  const onPick = (e) => {
    attach([...e.currentTarget.files]);
    e.currentTarget.value = ''; // the same file can be picked again
  };
  // A pasted picture (a screenshot) is attached; pasted text goes in as usual.
  const onPaste = (e) => {
    const files = [...((e.clipboardData && e.clipboardData.files) || [])];
    if (!files.length || editing || !canAttach) return;
    e.preventDefault();
    attach(files);
  };
  const onInput = (e) => {
    grow();
    if (!editing) {
      e.currentTarget.dataset.draft = e.currentTarget.value;
      sync.typing(room.id, e.currentTarget.value.length > 0);
    }
  };
  return html`<div class="composer-wrap">
    ${(replyTo || editing) && html`<div class="composer-context">
      <div>
        <strong>${editing ? 'Editing message' : `Replying to ${replyTo.sender_id === s.me.id ? 'yourself' : userName(replyTo.sender_id)}`}</strong>
        <p class="muted small clip">${messageText(editing || replyTo)}</p>
      </div>
      <${IconButton} icon="close" label=${editing ? 'Cancel editing' : 'Cancel reply'} onClick=${() => onDone()} />
    </div>`}
    ${!editing && html`<${UploadStrip} s=${s} roomId=${room.id} />`}
    ${error && html`<p class="form-error" role="alert">${error}</p>`}
    <div class="composer">
      ${canAttach && html`<${IconButton} icon="attach" label="Attach a photo or file" className="attach" onClick=${() => picker.current && picker.current.click()} />
        <input ref=${picker} type="file" multiple hidden onChange=${onPick} />`}
      <textarea ref=${ref} rows="1" aria-label="Message" placeholder="Aa" maxlength="8000"
        onKeyDown=${onKey} onInput=${onInput} onPaste=${onPaste} onBlur=${() => sync.typing(room.id, false)}></textarea>
      <${IconButton} icon=${editing ? 'check' : 'send'} label=${editing ? 'Save' : 'Send'} className="send" onClick=${submit} />
    </div>
  </div>`;
}

function History({ s, room, onReply, onEdit }) {
  const ref = useRef(null);
  const view = useRef({ atBottom: true, prevHeight: 0, prevTop: 0, prevFirst: 0, room: '' });
  const rec = roomMessages(room.id);
  const list = sortedMessages(room.id);
  const pending = s.pending.get(room.id) || [];
  const me = s.me.id;
  const first = list.length ? list[0].seq : 0;
  const all = [
    ...list,
    ...pending.map((p) => ({ ...p, seq: 0, sender_id: me, pendingState: p.state, reactions: [] })),
  ];

  if (view.current.room !== room.id) view.current = { atBottom: true, prevHeight: 0, prevTop: 0, prevFirst: 0, room: room.id };

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const v = view.current;
    const last = all[all.length - 1];
    const lastKey = last ? last.client_msg_id || String(last.seq) : '';
    if (lastKey !== v.lastKey) {
      if (last && last.sender_id === me) v.atBottom = true; // the user just sent it
      v.lastKey = lastKey;
    }
    if (v.prevFirst && first && first < v.prevFirst) {
      el.scrollTop = el.scrollHeight - v.prevHeight + v.prevTop; // older messages added above
      v.prevFirst = 0;
    } else if (v.atBottom) {
      el.scrollTop = el.scrollHeight;
    }
    if (rec.loaded && rec.hasMore && !rec.loading && el.scrollHeight <= el.clientHeight + 20) older();
  });

  const older = () => {
    const el = ref.current;
    if (!el || rec.loading || !rec.hasMore) return;
    Object.assign(view.current, { prevHeight: el.scrollHeight, prevTop: el.scrollTop, prevFirst: first });
    sync.loadOlder(room.id).catch(() => {});
  };
  const onScroll = (e) => {
    const el = e.currentTarget;
    view.current.atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    if (el.scrollTop < 120) older();
  };

  // The last stored message of the user, if nobody wrote after it, carries its status.
  let statusSeq = 0;
  if (list.length && list[list.length - 1].sender_id === me && !pending.length) statusSeq = list[list.length - 1].seq;

  const rows = [];
  let prevDay = '';
  all.forEach((m, i) => {
    const day = dayKey(m.created_at);
    if (day !== prevDay) {
      rows.push(html`<div class="day" role="separator" key=${`d-${day}`}><span>${dayLabel(m.created_at)}</span></div>`);
      prevDay = day;
    }
    const prev = all[i - 1];
    const next = all[i + 1];
    const joins = (a, b) => a && b && a.sender_id === b.sender_id && dayKey(a.created_at) === dayKey(b.created_at) &&
      Math.abs(Date.parse(b.created_at) - Date.parse(a.created_at)) < RUN_GAP_MS;
    const withPrev = joins(prev, m);
    const withNext = joins(m, next);
    const pos = withPrev ? (withNext ? 'middle' : 'last') : withNext ? 'first' : 'single';
    let status = '';
    if (m.pendingState === 'failed') status = m.error || 'Not sent.';
    else if (m.pendingState) status = m.pendingState === 'sent' ? 'Sent' : s.conn === 'online' || m.pendingState === 'sending' ? 'Sending…' : 'Waiting for network…';
    else if (m.seq === statusSeq) status = deliveryStatus(s, room, m);
    const replied = m.reply_to ? rec.bySeq.get(m.reply_to) : null;
    rows.push(html`<${Message} key=${m.seq ? `m-${m.seq}` : `p-${m.client_msg_id}`} m=${m} me=${me} senderUser=${s.users.get(m.sender_id)}
      group=${room.type === 'group'} pos=${pos} showName=${!withPrev} replied=${replied} status=${status}
      pending=${!!m.pendingState} failed=${m.pendingState === 'failed'}
      onRetry=${() => sync.retryPending(room.id, m.client_msg_id)}
      onDiscard=${() => sync.discardPending(room.id, m.client_msg_id)}
      onReply=${() => onReply(m)} onEdit=${() => onEdit(m)}
      onUnsend=${() => sync.unsend(room.id, m.seq).catch(() => {})}
      onReact=${(emoji) => sync.toggleReaction(room.id, m.seq, emoji).catch(() => {})} />`);
  });

  return html`<div class="history" ref=${ref} onScroll=${onScroll} role="log" aria-label="Messages">
    ${rec.loading && html`<p class="muted center small" role="status">Loading…</p>`}
    ${rec.loaded && !rec.hasMore && html`<div class="conv-start">
      <${RoomAvatar} s=${s} room=${room} size="lg" />
      <p><strong>${roomTitle(room)}</strong></p>
      <p class="muted small">${room.type === 'group' ? 'This is the start of the group.' : 'This is the start of your conversation.'}</p>
    </div>`}
    ${rows}
  </div>`;
}

/** Conversation is the right pane for one room. */
export function Conversation({ s, roomId }) {
  const [replyTo, setReplyTo] = useState(null);
  const [editing, setEditing] = useState(null);
  const [infoOpen, setInfoOpen] = useState(false);
  const [error, setError] = useState('');
  const [dragging, setDragging] = useState(false);
  useEffect(() => {
    setReplyTo(null);
    setEditing(null);
    setInfoOpen(false);
    setError('');
    sync.openRoom(roomId);
    return () => sync.openRoom('');
  }, [roomId]);
  const room = s.rooms.get(roomId);
  if (!room) return html`<section class="conversation empty-pane"><p class="muted">Loading…</p></section>`;
  const done = (sent, editNext) => {
    setReplyTo(null);
    setEditing(editNext || null);
  };
  // Files dragged onto the conversation are attached to the next message.
  const canDrop = (e) => !s.attachmentsUnsupported && !editing && e.dataTransfer && [...e.dataTransfer.types].includes('Files');
  const onDragOver = (e) => {
    if (!canDrop(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    if (!dragging) setDragging(true);
  };
  const onDragLeave = (e) => {
    if (!e.currentTarget.contains(e.relatedTarget)) setDragging(false);
  };
  const onDrop = (e) => {
    setDragging(false);
    if (!canDrop(e)) return;
    e.preventDefault();
    const files = [...e.dataTransfer.files];
    if (files.length) setError(offline(s) ? OFFLINE_NOTE : uploads.addFiles(room.id, files));
  };
  return html`<section class="conversation ${infoOpen ? 'with-info' : ''}" aria-label=${`Conversation with ${roomTitle(room)}`}>
    <div class="conv-main ${dragging ? 'dropping' : ''}" onDragOver=${onDragOver} onDragLeave=${onDragLeave} onDrop=${onDrop}>
      ${dragging && html`<div class="drop-hint" aria-hidden="true"><${Icon} name="attach" /> Drop to attach</div>`}
      <${Header} s=${s} room=${room} infoOpen=${infoOpen} toggleInfo=${() => setInfoOpen(!infoOpen)} />
      <${History} s=${s} room=${room} onReply=${(m) => { setEditing(null); setReplyTo(m); }} onEdit=${(m) => { setReplyTo(null); setEditing(m); }} />
      <${TypingLine} s=${s} room=${room} />
      <${Composer} s=${s} room=${room} replyTo=${replyTo} editing=${editing} onDone=${done} error=${error} setError=${setError} />
    </div>
    ${infoOpen && html`<${RoomInfo} s=${s} room=${room} onClose=${() => setInfoOpen(false)} />`}
  </section>`;
}
