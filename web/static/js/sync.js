// Keeping the state in step with the server: the first load, real-time events, filling gaps
// from history after a reconnect. Sending is in outbox.js (re-exported here for the screens).
import * as api from './api.js';
import * as rt from './realtime.js';
import {
  state, update, reset, rememberUsers, rememberRoom, roomMessages, putMessages, maxSeq, minSeq,
  loadPending, roomTitle, userName,
} from './store.js';
import { navigate } from './router.js';
import { messageText } from './format.js';
import { forgetAll } from './media.js';
import { dropAll } from './uploads.js';
import { flushOutbox } from './outbox.js';

export { send, retryPending, discardPending } from './outbox.js';

const PAGE = 50;

/** begin loads the signed-in user's world and opens the real-time connection. */
export async function begin(session) {
  state.me = session.user;
  loadPending();
  update();
  rt.start({ onEvent, onStatus, onConnect, onAuthLost });
  await Promise.allSettled([loadMe(), loadRooms(), loadFriends(), loadRequests()]);
}

/** end stops everything and forgets the state (logout). */
export function end() {
  rt.stop();
  dropAll();
  forgetAll();
  reset();
}

function onAuthLost() {
  api.logout();
}

function onStatus(s) {
  update((st) => {
    st.conn = s;
    if (s !== 'online') {
      for (const list of st.pending.values()) for (const p of list) if (p.state === 'sending') p.state = 'queued';
    }
  });
}

async function onConnect(isReconnect) {
  if (isReconnect) await catchUp();
  flushOutbox();
  markOpenRoomRead();
}

// The browser knows when the network comes back before a backoff timer does.
window.addEventListener('online', () => rt.reconnectNow());

async function loadMe() {
  const { user } = await api.me();
  update((s) => {
    s.me = user;
  });
  api.setUser(user);
}

/** loadRooms fetches every room of the user (all pages), replacing the room list. */
export async function loadRooms() {
  try {
    const all = [];
    let cursor;
    do {
      const page = await api.rooms(cursor);
      all.push(...page.rooms);
      cursor = page.next_cursor;
    } while (cursor);
    update((s) => {
      const keep = new Set(all.map((r) => r.id));
      for (const id of [...s.rooms.keys()]) if (!keep.has(id)) s.rooms.delete(id);
      for (const r of all) rememberRoom(r);
      s.roomsLoaded = true;
      s.roomsError = '';
    });
  } catch (err) {
    update((s) => {
      s.roomsError = err.message;
    });
  }
}

/** loadFriends fetches the friends list with presence. */
export async function loadFriends() {
  const { friends } = await api.friends();
  update((s) => {
    s.friends = new Map(friends.map((f) => [f.user.id, f]));
    rememberUsers(friends.map((f) => f.user));
    for (const f of friends) s.presence.set(f.user.id, f.presence);
  });
}

/** loadRequests fetches the pending friend requests both ways. */
export async function loadRequests() {
  const [inc, out] = await Promise.all([api.friendRequests('incoming'), api.friendRequests('outgoing')]);
  update((s) => {
    s.requests = { incoming: inc.requests, outgoing: out.requests, loaded: true };
    rememberUsers([...inc.requests.map((r) => r.from), ...out.requests.map((r) => r.to)]);
  });
}

const roomFetches = new Map(); // room id → promise of the room being fetched

/** fetchRoom loads one room as the user sees it; calls for the same room share one request. */
export function fetchRoom(id) {
  let p = roomFetches.get(id);
  if (!p) {
    p = api.room(id).then(({ room }) => {
      update(() => rememberRoom(room));
      return room;
    }).finally(() => roomFetches.delete(id));
    roomFetches.set(id, p);
  }
  return p;
}

/** openRoom loads the latest messages of a room the first time it is shown. */
export async function openRoom(id) {
  update((s) => {
    s.openRoom = id;
  });
  if (!id) return;
  if (!state.rooms.has(id)) {
    try {
      await fetchRoom(id);
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 404) navigate('/');
      return;
    }
  }
  const r = roomMessages(id);
  if (!r.loaded || r.stale) await loadLatest(id);
  markOpenRoomRead();
}

async function loadLatest(id) {
  const r = roomMessages(id);
  r.loading = true;
  try {
    const { messages } = await api.messages(id, { limit: PAGE });
    update(() => {
      if (!r.loaded) r.hasMore = messages.length === PAGE;
      r.loaded = true;
      r.stale = false;
      putMessages(id, messages);
    });
    // Messages between what we had and the latest page (a long time offline).
    const first = messages.length ? messages[0].seq : 0;
    let older = 0;
    for (const s of r.bySeq.keys()) if (s < first && s > older) older = s;
    if (older && older < first - 1) await fillGap(id, older);
  } finally {
    r.loading = false;
    update();
  }
}

/** loadOlder fetches the page of history before the oldest loaded message. */
export async function loadOlder(id) {
  const r = roomMessages(id);
  if (r.loading || !r.hasMore) return;
  const before = minSeq(id);
  if (before <= 1) {
    r.hasMore = false;
    update();
    return;
  }
  r.loading = true;
  update();
  try {
    const { messages } = await api.messages(id, { before, limit: PAGE });
    update(() => {
      r.hasMore = messages.length === PAGE && messages[0].seq > 1;
      putMessages(id, messages);
    });
  } finally {
    r.loading = false;
    update();
  }
}

const filling = new Map(); // room id → promise of the fill in progress

/**
 * fillGap fetches every message after the highest loaded seq (or after `from`), page by
 * page. Messages already loaded are replaced, not added twice.
 */
export function fillGap(id, from) {
  if (filling.has(id)) return filling.get(id);
  const run = (async () => {
    let after = from || maxSeq(id);
    for (;;) {
      const { messages } = await api.messages(id, { after, limit: 200 });
      update(() => putMessages(id, messages));
      if (messages.length < 200) break;
      after = messages[messages.length - 1].seq;
    }
  })().finally(() => filling.delete(id));
  filling.set(id, run);
  return run;
}

/**
 * catchUp runs after a reconnect: the room list (new rooms, unread counts, read pointers),
 * the friends and their presence, and for each loaded room the messages sent meanwhile.
 * Edits, unsends and reactions of the open room are refreshed with its latest page; other
 * rooms are marked stale and refreshed when opened.
 */
async function catchUp() {
  await Promise.allSettled([loadRooms(), loadFriends(), loadRequests()]);
  const jobs = [];
  for (const [id, r] of state.msgs) {
    if (!r.loaded) continue;
    if (!state.rooms.has(id)) {
      state.msgs.delete(id);
      continue;
    }
    jobs.push(fillGap(id).then(() => {
      if (id === state.openRoom) return loadLatest(id);
      r.stale = true;
      return undefined;
    }));
  }
  await Promise.allSettled(jobs);
  update();
}

// Events.

function onEvent(ev) {
  switch (ev.type) {
    case 'message.created':
      return onMessageCreated(ev);
    case 'message.updated':
    case 'message.deleted':
      return update(() => {
        const r = state.msgs.get(ev.room_id);
        if (r && r.loaded && (r.bySeq.has(ev.message.seq) || ev.message.seq <= maxSeq(ev.room_id))) r.bySeq.set(ev.message.seq, ev.message);
        const room = state.rooms.get(ev.room_id);
        if (room && room.last_message && room.last_message.seq === ev.message.seq) room.last_message = ev.message;
      });
    case 'reaction.changed':
      return update(() => {
        const r = state.msgs.get(ev.room_id);
        const m = r && r.bySeq.get(ev.seq);
        if (m) r.bySeq.set(ev.seq, { ...m, reactions: ev.reactions });
      });
    case 'room.read':
      return update(() => {
        const room = state.rooms.get(ev.room_id);
        if (!room) return;
        const m = room.members.find((x) => x.user_id === ev.user_id);
        if (m && ev.seq > (m.last_read_seq || 0)) m.last_read_seq = ev.seq;
        if (state.me && ev.user_id === state.me.id && ev.seq >= (room.last_seq || 0)) room.unread_count = 0;
      });
    case 'typing':
      return onTyping(ev);
    case 'room.created':
    case 'member.added':
      return onRoomChanged(ev);
    case 'room.updated':
      return update(() => {
        const old = state.rooms.get(ev.room.id);
        if (old) rememberRoom({ ...old, name: ev.room.name, updated_at: ev.room.updated_at || old.updated_at });
      });
    case 'member.removed':
      return update(() => {
        const room = state.rooms.get(ev.room_id);
        if (!room) return;
        if (state.me && ev.user_id === state.me.id) {
          state.rooms.delete(ev.room_id);
          state.msgs.delete(ev.room_id);
          if (state.openRoom === ev.room_id) navigate('/');
          return;
        }
        room.members = room.members.filter((m) => m.user_id !== ev.user_id);
      });
    case 'friend.request':
      return loadRequests().catch(() => {});
    case 'friend.accepted':
      return Promise.allSettled([loadFriends(), loadRequests()]);
    case 'presence':
      return update(() => {
        const p = ev.presence;
        state.presence.set(p.user_id, { online: p.online, last_seen: p.last_seen });
        const f = state.friends.get(p.user_id);
        if (f) f.presence = p;
      });
    default:
      return undefined;
  }
}

const held = new Map(); // room id → message events that came while the room was fetched
const HELD_MAX = 1000;

// holdFor keeps a message event of a room the app does not know yet, fetches the room, then
// applies the events again: those the fetched room already counts (seq up to its last_seq)
// change nothing, the later ones count as new.
function holdFor(ev) {
  const id = ev.room_id;
  let list = held.get(id);
  if (list) {
    if (list.length < HELD_MAX) list.push(ev);
    return;
  }
  held.set(id, (list = [ev]));
  fetchRoom(id).catch(() => {}).finally(() => {
    held.delete(id);
    if (state.rooms.has(id)) for (const e of list) onMessageCreated(e);
  });
}

function onMessageCreated(ev) {
  const m = ev.message;
  const room = state.rooms.get(ev.room_id);
  if (!room) {
    holdFor(ev);
    return;
  }
  const mine = state.me && m.sender_id === state.me.id;
  const r = state.msgs.get(ev.room_id);
  const gap = r && r.loaded && m.seq > maxSeq(ev.room_id) + 1;
  const isNew = !(r && r.bySeq.has(m.seq)) && m.seq > (room.last_seq || 0);
  update(() => {
    if (r && r.loaded) putMessages(ev.room_id, [m]);
    if (!room.last_message || m.seq >= room.last_message.seq) room.last_message = m;
    if (m.seq > (room.last_seq || 0)) room.last_seq = m.seq;
    room.updated_at = m.created_at;
    if (mine) {
      const me = room.members.find((x) => x.user_id === state.me.id);
      if (me && m.seq > me.last_read_seq) me.last_read_seq = m.seq;
    } else if (isNew && !(state.openRoom === ev.room_id && !document.hidden)) {
      room.unread_count = (room.unread_count || 0) + 1;
    }
    const t = state.typing.get(ev.room_id);
    if (t) t.delete(m.sender_id);
  });
  // Fan-out is best-effort: a jump in seq means a message went missing on the way.
  if (gap) fillGap(ev.room_id).catch(() => {});
  if (!mine && isNew) notify(room, m);
  if (state.openRoom === ev.room_id) markOpenRoomRead();
}

async function onRoomChanged(ev) {
  const id = ev.room ? ev.room.id : ev.room_id;
  const known = state.rooms.get(id);
  if (known && ev.members) {
    update(() => {
      const have = new Set(known.members.map((m) => m.user_id));
      for (const m of ev.members) if (!have.has(m.user_id)) known.members.push(m);
      rememberUsers(ev.members.map((m) => m.user));
    });
    return;
  }
  try {
    await fetchRoom(id);
  } catch {
    // Not (or no longer) a member.
  }
}

const TYPING_SHOWN_MS = 6000;

function onTyping(ev) {
  if (state.me && ev.user_id === state.me.id) return;
  update(() => {
    let t = state.typing.get(ev.room_id);
    if (!t) state.typing.set(ev.room_id, (t = new Map()));
    if (ev.typing) t.set(ev.user_id, Date.now() + TYPING_SHOWN_MS);
    else t.delete(ev.user_id);
  });
  // An indicator whose "stopped" event was lost fades out by itself.
  setTimeout(() => update((s) => {
    const t = s.typing.get(ev.room_id);
    if (t) for (const [u, until] of t) if (until <= Date.now()) t.delete(u);
  }), TYPING_SHOWN_MS + 50);
}

function notify(room, m) {
  if (!document.hidden || room.muted || state.notifications !== 'granted') return;
  const title = roomTitle(room);
  const text = messageText(m);
  const body = room.type === 'group' ? `${userName(m.sender_id)}: ${text}` : text;
  try {
    const n = new Notification(title, { body: body.slice(0, 200), tag: room.id });
    n.onclick = () => {
      window.focus();
      navigate(`/t/${room.id}`);
      n.close();
    };
  } catch {
    // Some browsers (Chrome on Android) show notifications only from a service worker; its
    // click handler opens the room.
    if (navigator.serviceWorker) {
      navigator.serviceWorker.getRegistration()
        .then((reg) => reg && reg.showNotification(title, { body: body.slice(0, 200), tag: room.id, data: { room_id: room.id } }))
        .catch(() => {});
    }
  }
}

/** dismissNotifications hides the offer to turn notifications on, in this browser. */
export function dismissNotifications() {
  localStorage.setItem('plop.notif-dismissed', '1');
  update((s) => {
    s.notifPromptDismissed = true;
  });
}

/** askNotifications asks for permission to show desktop notifications (from a click). */
export async function askNotifications() {
  if (typeof Notification === 'undefined') return;
  const p = await Notification.requestPermission();
  update((s) => {
    s.notifications = p;
  });
}


let lastTyping = 0;
let typingRoom = '';
let typingStop = 0;

/** typing tells the room the user is typing, at most every 3 seconds, and that they stopped. */
export function typing(roomId, active) {
  const now = Date.now();
  clearTimeout(typingStop);
  if (active) {
    if (roomId !== typingRoom || now - lastTyping > 3000) {
      lastTyping = now;
      typingRoom = roomId;
      rt.publish(`/app/rooms.${roomId}.typing`, { typing: true }).catch(() => {});
    }
    typingStop = setTimeout(() => typing(roomId, false), 4000);
    return;
  }
  if (typingRoom === roomId && lastTyping) {
    lastTyping = 0;
    typingRoom = '';
    rt.publish(`/app/rooms.${roomId}.typing`, { typing: false }).catch(() => {});
  }
}

const readSent = new Map(); // room id → seq last reported read

/** markOpenRoomRead reports the open room read up to its newest message, if on screen. */
export function markOpenRoomRead() {
  const id = state.openRoom;
  const room = id && state.rooms.get(id);
  if (!room || document.hidden) return;
  const seq = Math.max(maxSeq(id), room.last_seq || 0);
  if (!seq || (readSent.get(id) || 0) >= seq) {
    if (room.unread_count) update(() => { room.unread_count = 0; });
    return;
  }
  readSent.set(id, seq);
  update(() => {
    room.unread_count = 0;
    const me = room.members.find((m) => m.user_id === state.me.id);
    if (me && seq > me.last_read_seq) me.last_read_seq = seq;
  });
  const viaRest = () => api.markRead(id, seq).catch(() => readSent.delete(id));
  if (rt.connected()) rt.publish(`/app/rooms.${id}.read`, { seq }).catch(viaRest);
  else if (navigator.onLine) viaRest();
  else readSent.delete(id);
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) markOpenRoomRead();
});

// Other actions, over REST; their events update every open tab, this one included.

export async function editMessage(roomId, seq, body) {
  const { message } = await api.editMessage(roomId, seq, body);
  if (message) update(() => putMessages(roomId, [message]));
}

export async function unsend(roomId, seq) {
  const res = await api.unsendMessage(roomId, seq);
  if (res && res.message) update(() => putMessages(roomId, [res.message]));
  else {
    const r = state.msgs.get(roomId);
    const m = r && r.bySeq.get(seq);
    if (m) update(() => r.bySeq.set(seq, { ...m, body: '', deleted: true, reactions: [] }));
  }
}

export async function toggleReaction(roomId, seq, emoji) {
  const r = state.msgs.get(roomId);
  const m = r && r.bySeq.get(seq);
  if (!m) return;
  const mine = (m.reactions || []).some((x) => x.emoji === emoji && x.user_ids.includes(state.me.id));
  await api.react(roomId, seq, emoji, !mine);
}
