// The left pane: the user's header and the list of conversations.
import { html } from '../../vendor/htm/standalone.module.js';
import { roomsInOrder, roomTitle, otherMember, userName, presenceOf } from '../store.js';
import { shortTime, messageText } from '../format.js';
import { askNotifications, dismissNotifications } from '../sync.js';
import { Avatar, GroupAvatar, Link, IconLink, IconButton } from './common.js';

/** RoomAvatar is the picture of a conversation: the other person, or the group. */
export function RoomAvatar({ s, room, size = 'md' }) {
  if (room.type === 'group') return html`<${GroupAvatar} room=${room} users=${s.users} me=${s.me && s.me.id} size=${size} />`;
  const other = otherMember(room);
  const u = (other && s.users.get(other.user_id)) || {};
  const p = other && presenceOf(other.user_id);
  return html`<${Avatar} id=${u.id || room.id} name=${u.name || roomTitle(room)} url=${u.avatar_url} size=${size} online=${!!(p && p.online)} />`;
}

function preview(s, room) {
  const typing = s.typing.get(room.id);
  if (typing && typing.size) {
    const who = [...typing.keys()].map(userName);
    return room.type === 'group' ? `${who[0]} is typing…` : 'typing…';
  }
  const m = room.last_message;
  if (!m) return room.type === 'group' ? 'Group created' : 'Say hi 👋';
  const text = m.deleted ? 'unsent a message' : messageText(m);
  if (s.me && m.sender_id === s.me.id) return m.deleted ? 'You unsent a message' : `You: ${text}`;
  if (room.type === 'group' || m.deleted) return `${userName(m.sender_id).split(' ')[0]}${m.deleted ? ' ' : ': '}${text}`;
  return text;
}

/** Sidebar lists the conversations, latest first. */
export function Sidebar({ s, path }) {
  const me = s.me || {};
  const incoming = s.requests.incoming.length;
  const rooms = roomsInOrder();
  return html`<aside class="sidebar" aria-label="Chats">
    <header class="side-head">
      <${Link} href="/profile" class="me-link" aria-label="Your profile"><${Avatar} id=${me.id} name=${me.name} url=${me.avatar_url} size="sm" /><//>
      <h1>Chats</h1>
      <span class="people-link">
        <${IconLink} icon="people" label=${incoming ? `People, ${incoming} friend request${incoming > 1 ? 's' : ''}` : 'People'} href="/people" />
        ${incoming ? html`<span class="badge small" aria-hidden="true">${incoming}</span>` : null}
      </span>
      <${IconLink} icon="edit" label="New message" href="/new" />
    </header>
    ${s.notifications === 'default' && !s.notifPromptDismissed && html`<div class="notif-prompt">
      <button type="button" class="link" onClick=${askNotifications}>Turn on desktop notifications</button>
      <${IconButton} icon="close" label="Not now" onClick=${dismissNotifications} />
    </div>`}
    <nav aria-label="Conversations" class="room-list">
      ${!s.roomsLoaded && !s.roomsError && html`<p class="muted pad">Loading…</p>`}
      ${s.roomsError && !s.roomsLoaded && html`<p class="muted pad" role="alert">${s.roomsError}</p>`}
      ${s.roomsLoaded && rooms.length === 0 && html`<p class="muted pad">No conversations yet. Find your friends in <${Link} href="/people">People<//>, then start a chat.</p>`}
      <ul>
        ${rooms.map((room) => {
          const href = `/t/${room.id}`;
          const active = path === href;
          const unread = room.unread_count || 0;
          const title = roomTitle(room);
          return html`<li key=${room.id}>
            <${Link} href=${href} class="room-item ${active ? 'active' : ''} ${unread ? 'unread' : ''}" aria-current=${active ? 'page' : undefined}
              aria-label=${`${title}${unread ? `, ${unread} unread` : ''}`}>
              <${RoomAvatar} s=${s} room=${room} />
              <span class="room-text">
                <span class="room-name">${title}</span>
                <span class="room-preview"><span class="preview-text">${preview(s, room)}</span>
                  ${room.last_message && html`<span class="room-time"> · ${shortTime(room.last_message.created_at)}</span>`}</span>
              </span>
              ${unread ? html`<span class="badge" aria-hidden="true">${unread > 99 ? '99+' : unread}</span>` : null}
            <//>
          </li>`;
        })}
      </ul>
    </nav>
  </aside>`;
}
