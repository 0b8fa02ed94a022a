// Starting a conversation: a 1:1 chat with a friend, or a named group of friends.
import { html, useState } from '../../vendor/htm/standalone.module.js';
import * as api from '../api.js';
import { update, rememberRoom, presenceOf } from '../store.js';
import { activeText } from '../format.js';
import { navigate } from '../router.js';
import { Avatar, IconLink, Link, errorText } from './common.js';
import { openDirect } from './people.js';

/** NewChat is the "new message" screen. */
export function NewChat({ s }) {
  const [picked, setPicked] = useState(new Set());
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const friends = [...s.friends.values()].sort((a, b) => a.user.name.localeCompare(b.user.name));
  const toggle = (id) => {
    const n = new Set(picked);
    if (n.has(id)) n.delete(id);
    else n.add(id);
    setPicked(n);
  };
  const createGroup = async (e) => {
    e.preventDefault();
    const name = new FormData(e.currentTarget).get('name').trim();
    setBusy(true);
    setError('');
    try {
      const { room } = await api.createGroup(name, [...picked]);
      update(() => rememberRoom(room));
      navigate(`/t/${room.id}`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="page" aria-labelledby="new-h">
    <header class="page-head">
      <${IconLink} icon="back" label="Back to chats" href="/" className="phone-only" />
      <h1 id="new-h">New message</h1>
    </header>
    <div class="page-body">
      ${error && html`<p class="form-error" role="alert">${error}</p>`}
      ${friends.length === 0 && html`<p class="muted">You can chat with your friends. Find them in <${Link} href="/people">People<//>.</p>`}
      ${friends.length > 0 && html`<section aria-labelledby="direct-h">
        <h2 id="direct-h">Chat with a friend</h2>
        <ul class="people-list">
          ${friends.map((f) => {
            const p = presenceOf(f.user.id) || f.presence;
            return html`<li key=${f.user.id}>
              <button type="button" class="person person-button" onClick=${() => openDirect(f.user.id).catch((err) => setError(errorText(err)))}
                aria-label=${`Chat with ${f.user.name}`}>
                <${Avatar} id=${f.user.id} name=${f.user.name} url=${f.user.avatar_url} online=${!!(p && p.online)} />
                <span class="person-text"><span class="person-name">${f.user.name}</span><span class="muted small">${activeText(p)}</span></span>
              </button>
            </li>`;
          })}
        </ul>
      </section>
      <section aria-labelledby="group-h">
        <h2 id="group-h">New group</h2>
        <form class="form" onSubmit=${createGroup}>
          <label>Group name<input name="name" required maxlength="100" placeholder="Weekend plans" /></label>
          <fieldset>
            <legend>Members</legend>
            ${friends.map((f) => html`<label class="check" key=${f.user.id}>
              <input type="checkbox" checked=${picked.has(f.user.id)} onChange=${() => toggle(f.user.id)} />
              <${Avatar} id=${f.user.id} name=${f.user.name} url=${f.user.avatar_url} size="xs" /> ${f.user.name}
            </label>`)}
          </fieldset>
          <button class="primary" type="submit" disabled=${busy || picked.size < 1}>Create group</button>
        </form>
      </section>`}
    </div>
  </section>`;
}
