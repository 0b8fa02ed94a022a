// People: search by e-mail or name, friend requests both ways, and the friends list.
import { html, useState } from '../../vendor/htm/standalone.module.js';
import * as api from '../api.js';
import { update, rememberRoom, presenceOf } from '../store.js';
import { loadFriends, loadRequests } from '../sync.js';
import { activeText } from '../format.js';
import { navigate } from '../router.js';
import { Avatar, IconLink, errorText } from './common.js';

/** openDirect opens (creating if needed) the direct conversation with a user. */
export async function openDirect(userId) {
  const { room } = await api.createDirect(userId);
  update(() => rememberRoom(room));
  navigate(`/t/${room.id}`);
}

function Person({ u, sub, online, children }) {
  return html`<li class="person">
    <${Avatar} id=${u.id} name=${u.name} url=${u.avatar_url} size="md" online=${online} />
    <span class="person-text">
      <span class="person-name">${u.name}</span>
      ${sub && html`<span class="muted small">${sub}</span>`}
    </span>
    <span class="person-actions">${children}</span>
  </li>`;
}

function Search({ s, setError }) {
  const [results, setResults] = useState(null);
  const [sent, setSent] = useState(new Set());
  const search = async (e) => {
    e.preventDefault();
    const q = new FormData(e.currentTarget).get('q').trim();
    if (!q) return;
    setError('');
    try {
      const { users } = await api.searchUsers(q);
      setResults(users.filter((u) => u.id !== s.me.id));
    } catch (err) {
      setError(errorText(err));
    }
  };
  const add = async (u) => {
    setError('');
    try {
      await api.sendFriendRequest({ user_id: u.id });
      setSent(new Set([...sent, u.id]));
      loadRequests().catch(() => {});
    } catch (err) {
      setError(errorText(err));
    }
  };
  const outgoing = new Set(s.requests.outgoing.map((r) => r.to_id));
  const incoming = new Set(s.requests.incoming.map((r) => r.from_id));
  return html`<section aria-labelledby="find-h">
    <h2 id="find-h">Find people</h2>
    <form class="search" role="search" onSubmit=${search}>
      <label class="sr-only" for="people-q">Search people by name or e-mail</label>
      <input id="people-q" name="q" type="search" placeholder="Name or e-mail address" autocomplete="off" />
      <button type="submit">Search</button>
    </form>
    ${results && !results.length && html`<p class="muted">Nobody found.</p>`}
    ${results && results.length > 0 && html`<ul class="people-list" aria-label="Search results">
      ${results.map((u) => {
        let action;
        if (s.friends.has(u.id)) action = html`<button type="button" onClick=${() => openDirect(u.id)} aria-label=${`Message ${u.name}`}>Message</button>`;
        else if (sent.has(u.id) || outgoing.has(u.id)) action = html`<span class="muted small">Request sent</span>`;
        else if (incoming.has(u.id)) action = html`<span class="muted small">Wants to be friends</span>`;
        else action = html`<button type="button" class="primary" onClick=${() => add(u)} aria-label=${`Add ${u.name} as a friend`}>Add friend</button>`;
        return html`<${Person} key=${u.id} u=${u} sub=${u.status_message}>${action}<//>`;
      })}
    </ul>`}
  </section>`;
}

/** People is the people screen. */
export function People({ s }) {
  const [error, setError] = useState('');
  const act = (fn) => async () => {
    setError('');
    try {
      await fn();
      await Promise.all([loadRequests(), loadFriends()]);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const friends = [...s.friends.values()].sort((a, b) => {
    const pa = presenceOf(a.user.id);
    const pb = presenceOf(b.user.id);
    return (pb && pb.online ? 1 : 0) - (pa && pa.online ? 1 : 0) || a.user.name.localeCompare(b.user.name);
  });
  return html`<section class="page" aria-labelledby="people-h">
    <header class="page-head">
      <${IconLink} icon="back" label="Back to chats" href="/" className="phone-only" />
      <h1 id="people-h">People</h1>
    </header>
    <div class="page-body">
      ${error && html`<p class="form-error" role="alert">${error}</p>`}
      <${Search} s=${s} setError=${setError} />
      ${s.requests.incoming.length > 0 && html`<section aria-labelledby="req-h">
        <h2 id="req-h">Friend requests</h2>
        <ul class="people-list">
          ${s.requests.incoming.map((r) => html`<${Person} key=${r.id} u=${r.from || { id: r.from_id, name: 'Someone' }} sub="wants to be your friend">
            <button type="button" class="primary" onClick=${act(() => api.acceptRequest(r.id))} aria-label=${`Accept ${r.from ? r.from.name : 'request'}`}>Accept</button>
            <button type="button" onClick=${act(() => api.declineRequest(r.id))} aria-label=${`Decline ${r.from ? r.from.name : 'request'}`}>Decline</button>
          <//>`)}
        </ul>
      </section>`}
      ${s.requests.outgoing.length > 0 && html`<section aria-labelledby="sent-h">
        <h2 id="sent-h">Sent requests</h2>
        <ul class="people-list">
          ${s.requests.outgoing.map((r) => html`<${Person} key=${r.id} u=${r.to || { id: r.to_id, name: 'Someone' }} sub="Waiting for an answer" />`)}
        </ul>
      </section>`}
      <section aria-labelledby="friends-h">
        <h2 id="friends-h">Friends${friends.length ? ` (${friends.length})` : ''}</h2>
        ${friends.length === 0 && html`<p class="muted">No friends yet. Search for people above and add them.</p>`}
        <ul class="people-list" aria-label="Friends">
          ${friends.map((f) => {
            const p = presenceOf(f.user.id) || f.presence;
            return html`<${Person} key=${f.user.id} u=${f.user} sub=${activeText(p) || f.user.status_message} online=${!!(p && p.online)}>
              <button type="button" onClick=${() => openDirect(f.user.id).catch((err) => setError(errorText(err)))} aria-label=${`Message ${f.user.name}`}>Message</button>
            <//>`;
          })}
        </ul>
      </section>
    </div>
  </section>`;
}
