// The app's state in one mutable object, changed only through update(), which tells the
// components to render again (once per microtask, however many changes were made).
import { useEffect, useState } from '../vendor/htm/standalone.module.js';

/** newState returns the state of a signed-out or freshly signed-in app. */
export function newState() {
  return {
    me: null, // the signed-in user
    conn: 'connecting', // 'connecting' | 'online' | 'offline'
    rooms: new Map(), // room id → room as GET /rooms shows it (members, last_message, unread_count, ...)
    roomsLoaded: false,
    roomsError: '',
    // room id → { bySeq: Map<seq, message>, loaded, hasMore, loading, stale }
    msgs: new Map(),
    // room id → [{ client_msg_id, body, reply_to, attachment_ids, attachments, created_at,
    //   state: 'queued'|'sending'|'sent'|'failed', error }]
    pending: new Map(),
    typing: new Map(), // room id → Map<user id, expires at (ms)>
    // room id → [{ key, name, size, photo, preview, progress, status, error, attachment }]:
    // photos and files picked for the next message (see uploads.js)
    uploads: new Map(),
    attachmentsUnsupported: false, // the server has no attachment upload
    // Web Push on this device (see push.js): 'unknown' until checked, 'hidden' when the server
    // offers none, 'unavailable' when the browser has none, else 'off' or 'on'.
    push: { status: 'unknown', busy: false, error: '' },
    friends: new Map(), // user id → { user, since, presence }
    presence: new Map(), // user id → { online, last_seen }
    users: new Map(), // user id → user, every user seen anywhere (names and avatars)
    requests: { incoming: [], outgoing: [], loaded: false },
    notifications: typeof Notification === 'undefined' ? 'unsupported' : Notification.permission,
    notifPromptDismissed: localStorage.getItem('plop.notif-dismissed') === '1',
    openRoom: '', // the room on screen, '' when none
  };
}

export const state = newState();
const subscribers = new Set();
let scheduled = false;

/** update runs fn on the state and schedules a render. */
export function update(fn) {
  if (fn) fn(state);
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    for (const s of subscribers) s();
  });
}

/** reset empties the state (after logout). */
export function reset() {
  Object.assign(state, newState());
  update();
}

/** useStore re-renders the calling component whenever the state changes and returns it. */
export function useStore() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const fn = () => setTick((n) => n + 1);
    subscribers.add(fn);
    return () => subscribers.delete(fn);
  }, []);
  return state;
}

/** rememberUsers records users for names and avatars. */
export function rememberUsers(users) {
  for (const u of users) if (u && u.id) state.users.set(u.id, { ...state.users.get(u.id), ...u });
}

/** rememberRoom stores a room as seen by the signed-in user, keeping what it lacks. */
export function rememberRoom(room) {
  const old = state.rooms.get(room.id);
  const merged = old ? { ...old, ...room } : { ...room };
  if (!merged.members) merged.members = [];
  rememberUsers(merged.members.map((m) => m.user));
  state.rooms.set(room.id, merged);
  return merged;
}

/** roomMessages returns the message record of a room, creating it. */
export function roomMessages(roomId) {
  let r = state.msgs.get(roomId);
  if (!r) {
    r = { bySeq: new Map(), loaded: false, hasMore: true, loading: false, stale: false };
    state.msgs.set(roomId, r);
  }
  return r;
}

/** maxSeq returns the highest seq of the loaded messages of a room, 0 when none. */
export function maxSeq(roomId) {
  const r = state.msgs.get(roomId);
  let max = 0;
  if (r) for (const s of r.bySeq.keys()) if (s > max) max = s;
  return max;
}

/** minSeq returns the lowest seq loaded, 0 when none. */
export function minSeq(roomId) {
  const r = state.msgs.get(roomId);
  let min = 0;
  if (r) for (const s of r.bySeq.keys()) if (min === 0 || s < min) min = s;
  return min;
}

/**
 * putMessages merges messages into a room's loaded history, keyed by seq so that a message
 * delivered twice (live and again from history) is shown once, and drops the pending copies
 * of the signed-in user's own messages that are now stored.
 */
export function putMessages(roomId, list) {
  const r = roomMessages(roomId);
  for (const m of list) r.bySeq.set(m.seq, m);
  const pend = state.pending.get(roomId);
  if (pend && state.me) {
    const stored = new Set(list.filter((m) => m.sender_id === state.me.id).map((m) => m.client_msg_id));
    const left = pend.filter((p) => !stored.has(p.client_msg_id));
    if (left.length !== pend.length) setPending(roomId, left);
  }
}

/** sortedMessages returns a room's loaded messages ascending by seq. */
export function sortedMessages(roomId) {
  const r = state.msgs.get(roomId);
  if (!r) return [];
  return [...r.bySeq.values()].sort((a, b) => a.seq - b.seq);
}

const outboxKey = () => `plop.outbox.${state.me ? state.me.id : ''}`;

/** setPending replaces a room's queue of unsent messages and saves every queue. */
export function setPending(roomId, list) {
  if (list.length) state.pending.set(roomId, list);
  else state.pending.delete(roomId);
  savePending();
}

// savedState is the state a pending message comes back in after a reload: a message with
// attachments is not sent again by itself (they are not queued), text is.
function savedState(p) {
  if (p.state === 'sent') return 'sent';
  return p.attachment_ids && p.attachment_ids.length ? 'failed' : 'queued';
}

/** savePending keeps the unsent messages in localStorage, so a reload does not lose them. */
export function savePending() {
  if (!state.me) return;
  const all = [];
  for (const [roomId, list] of state.pending) for (const p of list) all.push({ ...p, room_id: roomId, state: savedState(p) });
  if (all.length) localStorage.setItem(outboxKey(), JSON.stringify(all));
  else localStorage.removeItem(outboxKey());
}

/** loadPending restores the unsent messages of the signed-in user. */
export function loadPending() {
  state.pending.clear();
  let all = [];
  try {
    all = JSON.parse(localStorage.getItem(outboxKey()) || '[]');
  } catch {
    all = [];
  }
  for (const p of all) {
    if (p.state === 'sent') continue; // acknowledged: history has it
    const list = state.pending.get(p.room_id) || [];
    list.push({
      client_msg_id: p.client_msg_id,
      body: p.body,
      reply_to: p.reply_to ?? null,
      attachment_ids: p.attachment_ids || [],
      attachments: p.attachments || [],
      created_at: p.created_at,
      state: p.state,
      error: p.state === 'failed' ? p.error || 'Not sent.' : '',
    });
    state.pending.set(p.room_id, list);
  }
}

/** userName returns the display name of a user id. */
export function userName(id) {
  if (state.me && id === state.me.id) return state.me.name;
  const u = state.users.get(id);
  return (u && u.name) || 'Someone';
}

/** roomTitle returns what the room is called for the signed-in user. */
export function roomTitle(room) {
  if (!room) return '';
  if (room.type === 'group') return room.name || room.members.map((m) => userName(m.user_id)).join(', ') || 'Group';
  const other = otherMember(room);
  return other ? userName(other.user_id) : room.name || 'Chat';
}

/** otherMember returns the other member of a direct room. */
export function otherMember(room) {
  if (!room || !state.me) return null;
  return room.members.find((m) => m.user_id !== state.me.id) || null;
}

/** presenceOf returns { online, last_seen } of a user, or null when unknown. */
export function presenceOf(id) {
  return state.presence.get(id) || null;
}

/** roomsInOrder returns the rooms, latest activity first. */
export function roomsInOrder() {
  const t = (s) => (s ? Date.parse(s) || 0 : 0);
  const activity = (r) => Math.max(t(r.updated_at), t(r.created_at), t(r.last_message && r.last_message.created_at));
  return [...state.rooms.values()].sort((a, b) => activity(b) - activity(a));
}
