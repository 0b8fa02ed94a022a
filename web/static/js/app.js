// The entry point: the screens for signed-out users, and the two-pane messenger for
// signed-in ones (one pane at a time on a phone).
import { html, render, useEffect, useState } from '../vendor/htm/standalone.module.js';
import { currentSession, onSession, logout } from './api.js';
import { useStore, update } from './store.js';
import { begin, end } from './sync.js';
import { useRoute, navigate } from './router.js';
import { Login, Signup, Verify } from './ui/auth.js';
import { Sidebar } from './ui/sidebar.js';
import { Conversation } from './ui/conversation.js';
import { People } from './ui/people.js';
import { NewChat } from './ui/newchat.js';
import { Profile } from './ui/profile.js';
import { Icon } from './ui/common.js';
import { registerWorker, forget as forgetPush } from './push.js';

const authPaths = ['/login', '/signup', '/verify'];

function useSession() {
  const [session, setSession] = useState(currentSession());
  useEffect(() => onSession(setSession), []);
  return session;
}

function Signedout({ route }) {
  useEffect(() => {
    if (!authPaths.includes(route.path)) navigate('/login', { replace: true });
  }, [route.path]);
  if (route.path === '/signup') return html`<${Signup} />`;
  if (route.path === '/verify') return html`<${Verify} params=${route.params} />`;
  return html`<${Login} />`;
}

function Empty() {
  return html`<section class="empty-pane" aria-label="No conversation selected">
    <div class="empty-art" aria-hidden="true"><${Icon} name="chat" /></div>
    <p>Pick a conversation, or start a new one.</p>
  </section>`;
}

// signOut stops push to this browser (the next person to sign in here is someone else, maybe),
// then logs out.
async function signOut() {
  await forgetPush().catch(() => {});
  await logout();
  navigate('/login');
}

function Messenger({ s, route }) {
  const path = route.path;
  let main;
  const m = /^\/t\/([^/]+)$/.exec(path);
  if (m) main = html`<${Conversation} s=${s} roomId=${decodeURIComponent(m[1])} />`;
  else if (path === '/people') main = html`<${People} s=${s} />`;
  else if (path === '/new') main = html`<${NewChat} s=${s} />`;
  else if (path === '/profile') main = html`<${Profile} s=${s} onLogout=${signOut} />`;
  else main = html`<${Empty} />`;
  const onMain = path !== '/';
  return html`<div class="app ${onMain ? 'show-main' : 'show-side'}">
    ${s.conn === 'offline' && html`<div class="banner" role="status">No connection. Reconnecting… Messages you send now will go out when you are back online; photos and files cannot be sent until then.</div>`}
    <div class="panes">
      <${Sidebar} s=${s} path=${path} />
      <main class="main">${main}</main>
    </div>
  </div>`;
}

function App() {
  const s = useStore();
  const route = useRoute();
  const session = useSession();
  const userId = session && session.user && session.user.id;

  useEffect(() => {
    if (!userId) return undefined;
    begin(currentSession());
    if (authPaths.includes(location.pathname)) navigate('/', { replace: true });
    return () => end();
  }, [userId]);

  // Relative times ("Active 5m ago") move on by themselves.
  useEffect(() => {
    const t = setInterval(() => update(), 30000);
    return () => clearInterval(t);
  }, []);

  if (!session) return html`<${Signedout} route=${route} />`;
  if (!s.me) return html`<p class="muted center pad">Loading…</p>`;
  return html`<${Messenger} s=${s} route=${route} />`;
}

registerWorker();
render(html`<${App} />`, document.getElementById('app'));
