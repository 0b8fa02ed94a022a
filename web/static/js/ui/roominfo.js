// The side panel of a conversation: mute, and for groups the name, members, adding people
// and leaving.
import { html, useState, useEffect } from '../../vendor/htm/standalone.module.js';
import * as api from '../api.js';
import { update, state, rememberRoom, rememberUsers, otherMember, userName, presenceOf } from '../store.js';
import { activeText } from '../format.js';
import { navigate } from '../router.js';
import { Avatar, IconButton, errorText } from './common.js';

function Members({ s, room }) {
  return html`<ul class="people-list" aria-label="Members">
    ${room.members.map((m) => {
      const u = s.users.get(m.user_id) || { id: m.user_id, name: userName(m.user_id) };
      const p = presenceOf(m.user_id);
      const me = m.user_id === s.me.id;
      return html`<li key=${m.user_id} class="person">
        <${Avatar} id=${u.id} name=${u.name} url=${u.avatar_url} size="sm" online=${!!(p && p.online)} />
        <span class="person-text">
          <span class="person-name">${me ? `${s.me.name} (you)` : u.name}</span>
          <span class="muted small">${[m.role === 'admin' ? 'Admin' : '', me ? '' : activeText(p)].filter(Boolean).join(' · ')}</span>
        </span>
      </li>`;
    })}
  </ul>`;
}

function AddMembers({ s, room, onDone }) {
  const inRoom = new Set(room.members.map((m) => m.user_id));
  const candidates = [...s.friends.values()].filter((f) => !inRoom.has(f.user.id));
  const [picked, setPicked] = useState(new Set());
  const [error, setError] = useState('');
  const toggle = (id) => {
    const n = new Set(picked);
    if (n.has(id)) n.delete(id);
    else n.add(id);
    setPicked(n);
  };
  const add = async (e) => {
    e.preventDefault();
    try {
      await api.addMembers(room.id, [...picked]);
      const { room: fresh } = await api.room(room.id);
      update(() => rememberRoom(fresh));
      onDone();
    } catch (err) {
      setError(errorText(err));
    }
  };
  if (!candidates.length) return html`<p class="muted small">All your friends are in this group already.</p>`;
  return html`<form class="form" onSubmit=${add}>
    <fieldset>
      <legend>Add people</legend>
      ${candidates.map((f) => html`<label class="check" key=${f.user.id}>
        <input type="checkbox" checked=${picked.has(f.user.id)} onChange=${() => toggle(f.user.id)} />
        <${Avatar} id=${f.user.id} name=${f.user.name} url=${f.user.avatar_url} size="xs" /> ${f.user.name}
      </label>`)}
    </fieldset>
    ${error && html`<p class="form-error" role="alert">${error}</p>`}
    <button class="primary" type="submit" disabled=${!picked.size}>Add</button>
  </form>`;
}

/** RoomInfo is the conversation's information panel. */
export function RoomInfo({ s, room, onClose }) {
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState('');
  const group = room.type === 'group';
  const other = !group && otherMember(room);
  const otherUser = other && s.users.get(other.user_id);
  // Profiles change without an event: show the latest name, status and picture.
  useEffect(() => {
    if (!other) return;
    api.getUser(other.user_id).then(({ user }) => update(() => rememberUsers([user]))).catch(() => {});
  }, [other && other.user_id]);

  const setMuted = async (muted) => {
    try {
      const { room: r } = await api.updateRoom(room.id, { muted });
      update(() => rememberRoom({ ...r, members: r.members || room.members }));
    } catch (err) {
      setError(errorText(err));
    }
  };
  const rename = async (e) => {
    e.preventDefault();
    const name = new FormData(e.currentTarget).get('name').trim();
    if (!name || name === room.name) return;
    try {
      const { room: r } = await api.updateRoom(room.id, { name });
      update(() => rememberRoom({ ...r, members: r.members || room.members }));
    } catch (err) {
      setError(errorText(err));
    }
  };
  const leave = async () => {
    try {
      await api.removeMember(room.id, s.me.id);
      update(() => {
        state.rooms.delete(room.id);
        state.msgs.delete(room.id);
      });
      navigate('/');
    } catch (err) {
      setError(errorText(err));
    }
  };

  const onKey = (e) => {
    if (e.key === 'Escape') onClose();
  };
  return html`<aside class="room-info" aria-label="Conversation information" onKeyDown=${onKey}>
    <header class="info-head">
      <h2>${group ? 'Group' : 'Chat'} info</h2>
      <${IconButton} icon="close" label="Close information" onClick=${onClose} />
    </header>
    <div class="info-body">
      ${!group && otherUser && html`<div class="info-person">
        <${Avatar} id=${otherUser.id} name=${otherUser.name} url=${otherUser.avatar_url} size="lg" />
        <p><strong>${otherUser.name}</strong></p>
        ${otherUser.status_message && html`<p class="muted">${otherUser.status_message}</p>`}
        <p class="muted small">${activeText(presenceOf(otherUser.id))}</p>
      </div>`}
      ${group && html`<form class="form inline" onSubmit=${rename}>
        <label>Group name<input name="name" defaultValue=${room.name} maxlength="100" required /></label>
        <button type="submit">Rename</button>
      </form>`}
      <label class="check"><input type="checkbox" checked=${!!room.muted} onChange=${(e) => setMuted(e.currentTarget.checked)} /> Mute notifications</label>
      ${group && html`<h3>${room.members.length} members</h3>
        <${Members} s=${s} room=${room} />
        ${adding ? html`<${AddMembers} s=${s} room=${room} onDone=${() => setAdding(false)} />`
          : html`<button type="button" onClick=${() => setAdding(true)}>Add people</button>`}
        <button type="button" class="danger" onClick=${leave}>Leave group</button>`}
      ${error && html`<p class="form-error" role="alert">${error}</p>`}
    </div>
  </aside>`;
}
