// Web Push on this device: the service worker at /sw.js, and the subscription that lets the
// server reach this browser while no tab of Plop is connected. The device id the server gave
// is kept in localStorage, per user, to delete it when push is turned off or the user logs out.
import * as api from './api.js';
import { state, update } from './store.js';
import { navigate } from './router.js';

const deviceKey = () => `plop.push-device.${state.me ? state.me.id : ''}`;

/** registerWorker installs the service worker (scope /) and follows its clicks on notifications. */
export function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  // A click on a notification of a room asks an open tab to show it.
  navigator.serviceWorker.addEventListener('message', (e) => {
    const d = e.data || {};
    if (d.type === 'plop.open' && typeof d.path === 'string' && d.path.startsWith('/')) navigate(d.path);
  });
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err) => {
    console.warn(`The service worker was not installed: ${err.message}`);
  });
}

function set(patch) {
  update((s) => {
    s.push = { ...s.push, ...patch };
  });
}

function supported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && typeof Notification !== 'undefined';
}

function saved() {
  try {
    return JSON.parse(localStorage.getItem(deviceKey()) || 'null');
  } catch {
    return null;
  }
}

/** keyBytes decodes the base64url VAPID public key to the bytes PushManager wants. */
function keyBytes(b64url) {
  const b64 = b64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (b64url.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

// serverKey asks the server for its VAPID public key each time: the key may change.
const serverKey = () => api.vapidKey().then((r) => r.public_key);

/**
 * check works out what the toggle shows: hidden when the server offers no Web Push (its key
 * is not found), unavailable when this browser has no push, else on or off.
 */
export async function check() {
  if (!state.me) return;
  try {
    await serverKey();
  } catch (err) {
    if (err instanceof api.ApiError && err.status === 404) set({ status: 'hidden' });
    else set({ status: 'off', error: '' });
    return;
  }
  if (!supported()) {
    set({ status: 'unavailable' });
    return;
  }
  const reg = await navigator.serviceWorker.getRegistration('/');
  const sub = reg && (await reg.pushManager.getSubscription().catch(() => null));
  const dev = saved();
  set({ status: sub && dev && dev.endpoint === sub.endpoint ? 'on' : 'off' });
}

/** enable asks for permission (call it from a click), subscribes and registers the device. */
export async function enable() {
  if (state.push.busy) return;
  set({ busy: true, error: '' });
  try {
    // Asked first, while the click still counts as the user's gesture.
    const permission = await Notification.requestPermission();
    update((s) => {
      s.notifications = permission;
    });
    if (permission !== 'granted') {
      set({ error: 'Notifications are blocked for Plop in this browser. Allow them in the site settings, then try again.' });
      return;
    }
    const key = await serverKey();
    const reg = await navigator.serviceWorker.ready;
    // A subscription this user did not register (someone signed in here before, and their
    // session ended without a log-out) is replaced, so that their pushes stop coming here.
    const existing = await reg.pushManager.getSubscription().catch(() => null);
    const dev = saved();
    if (existing && !(dev && dev.endpoint === existing.endpoint)) await existing.unsubscribe().catch(() => false);
    const opts = { userVisibleOnly: true, applicationServerKey: keyBytes(key) };
    let sub;
    try {
      sub = await reg.pushManager.subscribe(opts).catch(async (err) => {
        // A subscription made with an older key of the server is replaced.
        const old = await reg.pushManager.getSubscription();
        if (!old) throw err;
        await old.unsubscribe();
        return reg.pushManager.subscribe(opts);
      });
    } catch (err) {
      set({ status: 'unavailable', error: `Push is not available in this browser (${err.message}).` });
      return;
    }
    const { device } = await api.registerDevice(sub.toJSON());
    localStorage.setItem(deviceKey(), JSON.stringify({ id: device.id, endpoint: sub.endpoint }));
    set({ status: 'on' });
  } catch (err) {
    set({ error: err.message || String(err) });
  } finally {
    set({ busy: false });
  }
}

/** disable unsubscribes this browser and deletes its device on the server. */
export async function disable() {
  if (state.push.busy) return;
  set({ busy: true, error: '' });
  try {
    await forget();
    set({ status: 'off' });
  } catch (err) {
    set({ error: err.message || String(err) });
  } finally {
    set({ busy: false });
  }
}

/** forget drops this browser's subscription and device, if any (turning off, logging out). */
export async function forget() {
  const dev = saved();
  if (supported()) {
    const reg = await navigator.serviceWorker.getRegistration('/');
    const sub = reg && (await reg.pushManager.getSubscription().catch(() => null));
    if (sub) await sub.unsubscribe().catch(() => false);
  }
  if (dev) {
    try {
      await api.deleteDevice(dev.id);
    } catch (err) {
      if (!(err instanceof api.ApiError && err.status === 404)) throw err;
    }
  }
  localStorage.removeItem(deviceKey());
}
