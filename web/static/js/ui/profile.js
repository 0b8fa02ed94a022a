// The user's profile: name, status, picture, notifications and logging out.
import { html, useState, useEffect } from '../../vendor/htm/standalone.module.js';
import * as api from '../api.js';
import { update } from '../store.js';
import { askNotifications } from '../sync.js';
import * as push from '../push.js';
import { Avatar, IconLink, errorText } from './common.js';

/**
 * PushToggle turns notifications on this device on and off: a Web Push subscription that
 * reaches the browser while Plop is closed. It is not shown when the server offers none.
 */
function PushToggle({ s }) {
  const p = s.push;
  useEffect(() => {
    push.check().catch(() => {});
  }, []);
  if (p.status === 'hidden' || p.status === 'unknown') return null;
  const on = p.status === 'on';
  const toggle = (e) => {
    if (e.currentTarget.checked) push.enable();
    else push.disable();
  };
  return html`<div class="push-toggle">
    <label class="switch-row">
      <input type="checkbox" role="switch" checked=${on} disabled=${p.busy || p.status === 'unavailable'} onChange=${toggle} />
      Notifications on this device
    </label>
    <p class="muted small">${on ? 'New messages reach this browser even when Plop is closed.' : 'Get new messages on this device even when Plop is closed.'}</p>
    ${p.status === 'unavailable' && html`<p class="form-error" role="status">${p.error || 'Push is not available in this browser.'}</p>`}
    ${p.error && p.status !== 'unavailable' && html`<p class="form-error" role="alert">${p.error}</p>`}
  </div>`;
}

/** Profile is the profile screen. */
export function Profile({ s, onLogout }) {
  const me = s.me;
  const [note, setNote] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const apply = (user) => {
    update((st) => {
      st.me = user;
      st.users.set(user.id, user);
    });
    api.setUser(user);
  };
  const save = async (e) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    setBusy(true);
    setError('');
    setNote('');
    try {
      const { user } = await api.updateMe({ name: data.get('name').trim(), status_message: data.get('status').trim() });
      apply(user);
      setNote('Saved.');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const upload = async (e) => {
    const input = e.currentTarget;
    const file = input.files[0];
    if (!file) return;
    setError('');
    setNote('');
    try {
      const { user } = await api.uploadAvatar(file);
      apply(user);
      setNote('Profile picture updated.');
    } catch (err) {
      setError(errorText(err));
    }
    input.value = ''; // the same file can be chosen again
  };
  return html`<section class="page" aria-labelledby="profile-h">
    <header class="page-head">
      <${IconLink} icon="back" label="Back to chats" href="/" className="phone-only" />
      <h1 id="profile-h">Your profile</h1>
    </header>
    <div class="page-body profile">
      <div class="profile-photo">
        <${Avatar} id=${me.id} name=${me.name} url=${me.avatar_url} size="xl" />
        <label class="button">Change picture<input type="file" accept="image/*" class="sr-only" onChange=${upload} /></label>
      </div>
      <form class="form" onSubmit=${save}>
        <label>Name<input name="name" defaultValue=${me.name} required maxlength="100" autocomplete="name" /></label>
        <label>Status<input name="status" defaultValue=${me.status_message || ''} maxlength="140" placeholder="What's on your mind?" /></label>
        <p class="muted small">Signed in as ${me.email}</p>
        ${note && html`<p class="form-note" role="status">${note}</p>`}
        ${error && html`<p class="form-error" role="alert">${error}</p>`}
        <button class="primary" type="submit" disabled=${busy}>Save</button>
      </form>
      <section aria-labelledby="notif-h">
        <h2 id="notif-h">Notifications</h2>
        ${s.notifications === 'granted' && html`<p class="muted">Desktop notifications are on for new messages while Plop is in the background.</p>`}
        ${s.notifications === 'denied' && html`<p class="muted">Desktop notifications are blocked in your browser settings.</p>`}
        ${s.notifications === 'unsupported' && html`<p class="muted">This browser cannot show notifications.</p>`}
        ${s.notifications === 'default' && html`<button type="button" onClick=${askNotifications}>Turn on desktop notifications</button>`}
        <${PushToggle} s=${s} />
      </section>
      <button type="button" class="danger" onClick=${onLogout}>Log out</button>
    </div>
  </section>`;
}
