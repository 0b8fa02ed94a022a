// The REST client: the login kept in localStorage, access tokens refreshed before they expire
// and after a 401, one refresh at a time across every tab (refresh tokens rotate), and JSON
// calls to /api/v1.

const KEY = 'plop.session';
const BASE = '/api/v1';

/** ApiError is a failed call: the HTTP status and the server's error code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || 'internal';
  }
}

/** NetworkError is a call that did not reach the server. */
export class NetworkError extends Error {}

let session = load();
const listeners = new Set();

function load() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || 'null');
    return s && s.refresh_token ? s : null;
  } catch {
    return null;
  }
}

function save(s) {
  session = s;
  if (s) localStorage.setItem(KEY, JSON.stringify(s));
  else localStorage.removeItem(KEY);
  for (const fn of listeners) fn(session);
}

// Another tab logged in, refreshed or logged out.
window.addEventListener('storage', (e) => {
  if (e.key !== KEY) return;
  session = load();
  for (const fn of listeners) fn(session);
});

/** onSession calls fn with the session (or null) whenever it changes; returns an unsubscribe. */
export function onSession(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** currentSession returns {access_token, refresh_token, expires_at, user} or null. */
export function currentSession() {
  return session;
}

/** setUser updates the signed-in user kept with the session (after a profile change). */
export function setUser(user) {
  if (session) save({ ...session, user });
}

function fromTokens(t) {
  return {
    access_token: t.access_token,
    refresh_token: t.refresh_token,
    // Refresh a little early so a request never leaves with a token about to expire.
    expires_at: Date.now() + Math.max(30, (t.expires_in || 900) - 60) * 1000,
    user: t.user,
  };
}

async function raw(method, path, { body, token, headers = {}, signal } = {}) {
  const init = { method, headers: { ...headers }, signal };
  if (body instanceof Blob || body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (token) init.headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new NetworkError('You are offline or the server cannot be reached.');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(res.status, e.code, e.message || res.statusText);
  }
  return data;
}

let refreshing = null;

/**
 * refresh trades the refresh token for new tokens, because the access token `stale` was
 * refused or is about to expire. Calls in this tab share one request, and the Web Locks API
 * keeps other tabs from presenting the same refresh token: a spent token would revoke the
 * whole login. Inside the lock a tab first checks whether another tab (or an earlier call)
 * has already replaced `stale`, and then takes those tokens instead.
 */
export function refresh(stale = session && session.access_token) {
  if (!refreshing) {
    const run = async () => {
      const latest = load();
      if (!latest) throw new ApiError(401, 'unauthenticated', 'Signed out');
      if (latest.access_token !== stale && latest.expires_at > Date.now()) {
        session = latest; // someone else did it
        return latest;
      }
      try {
        const t = await raw('POST', '/auth/refresh', { body: { refresh_token: latest.refresh_token } });
        const s = fromTokens(t);
        save(s);
        return s;
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) save(null);
        throw err;
      }
    };
    const locked = navigator.locks ? navigator.locks.request('plop.refresh', run) : run();
    refreshing = locked.finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** accessToken returns a valid access token, refreshing it first when it is about to expire. */
export async function accessToken() {
  if (!session) throw new ApiError(401, 'unauthenticated', 'Signed out');
  if (Date.now() >= session.expires_at) await refresh();
  return session.access_token;
}

/** call sends an authenticated request, refreshing the token and retrying once after a 401. */
export async function call(method, path, opts = {}) {
  const token = await accessToken();
  try {
    return await raw(method, path, { ...opts, token });
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401 || !session) throw err;
    await refresh(token);
    return raw(method, path, { ...opts, token: session.access_token });
  }
}

// A timer refreshes the token shortly before it expires, so an idle tab stays signed in
// and its WebSocket can reconnect with a valid token.
let timer = 0;
function schedule() {
  clearTimeout(timer);
  if (!session) return;
  const wait = Math.max(1000, session.expires_at - Date.now());
  timer = setTimeout(() => {
    if (!navigator.onLine) return schedule();
    refresh().catch(() => {}).finally(schedule);
  }, Math.min(wait, 2 ** 31 - 1));
}
onSession(schedule);
schedule();

// Accounts.

/** signup creates an account; a code is e-mailed to verify it. */
export function signup(email, password, name) {
  return raw('POST', '/auth/signup', { body: { email, password, name } });
}

/** verify checks the e-mailed code and signs in. */
export async function verify(email, code) {
  const t = await raw('POST', '/auth/verify', { body: { email, code } });
  save(fromTokens(t));
  return session;
}

/** resendCode e-mails a new code. */
export function resendCode(email) {
  return raw('POST', '/auth/verify/resend', { body: { email } });
}

/** login signs in with e-mail and password. */
export async function login(email, password) {
  const t = await raw('POST', '/auth/login', { body: { email, password } });
  save(fromTokens(t));
  return session;
}

/** logout revokes the refresh token (best effort) and forgets the session. */
export async function logout() {
  const s = session;
  save(null);
  if (s) {
    try {
      await raw('POST', '/auth/logout', { body: { refresh_token: s.refresh_token } });
    } catch {
      // The tokens are gone from this browser; the server expires them anyway.
    }
  }
}

// Everything else is a thin wrapper over call().

const q = (params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, v);
  const str = s.toString();
  return str ? `?${str}` : '';
};

export const me = () => call('GET', '/me');
export const updateMe = (patch) => call('PATCH', '/me', { body: patch });
export const uploadAvatar = (file) => call('PUT', '/me/avatar', { body: file, headers: { 'Content-Type': file.type || 'application/octet-stream' } });
export const searchUsers = (query) => call('GET', `/users${q({ q: query })}`);
export const getUser = (id) => call('GET', `/users/${encodeURIComponent(id)}`);
export const friends = () => call('GET', '/friends');
export const unfriend = (id) => call('DELETE', `/friends/${encodeURIComponent(id)}`);
export const sendFriendRequest = (target) => call('POST', '/friends/requests', { body: target });
export const friendRequests = (direction) => call('GET', `/friends/requests${q({ direction })}`);
export const acceptRequest = (id) => call('POST', `/friends/requests/${encodeURIComponent(id)}/accept`);
export const declineRequest = (id) => call('POST', `/friends/requests/${encodeURIComponent(id)}/decline`);
export const presence = (ids) => call('GET', `/presence${q({ user_ids: ids.join(',') })}`);

export const rooms = (cursor) => call('GET', `/rooms${q({ cursor, limit: 50 })}`);
export const room = (id) => call('GET', `/rooms/${encodeURIComponent(id)}`);
export const createDirect = (userId) => call('POST', '/rooms', { body: { type: 'direct', member_ids: [userId] } });
export const createGroup = (name, ids) => call('POST', '/rooms', { body: { type: 'group', name, member_ids: ids } });
export const updateRoom = (id, patch) => call('PATCH', `/rooms/${encodeURIComponent(id)}`, { body: patch });
export const addMembers = (id, ids) => call('POST', `/rooms/${encodeURIComponent(id)}/members`, { body: { user_ids: ids } });
export const removeMember = (id, userId) => call('DELETE', `/rooms/${encodeURIComponent(id)}/members/${encodeURIComponent(userId)}`);
export const messages = (id, { before, after, limit = 50 } = {}) =>
  call('GET', `/rooms/${encodeURIComponent(id)}/messages${q({ before, after, limit })}`);
export const sendMessage = (id, msg) => call('POST', `/rooms/${encodeURIComponent(id)}/messages`, { body: msg });
export const editMessage = (id, seq, body) => call('PATCH', `/rooms/${encodeURIComponent(id)}/messages/${seq}`, { body: { body } });
export const unsendMessage = (id, seq) => call('DELETE', `/rooms/${encodeURIComponent(id)}/messages/${seq}`);
export const react = (id, seq, emoji, on) =>
  call(on ? 'PUT' : 'DELETE', `/rooms/${encodeURIComponent(id)}/messages/${seq}/reactions/${encodeURIComponent(emoji)}`);
export const markRead = (id, seq) => call('POST', `/rooms/${encodeURIComponent(id)}/read`, { body: { seq } });

// Push devices.

export const vapidKey = () => call('GET', '/push/vapid-key');
export const registerDevice = (subscription) => call('POST', '/devices', { body: { platform: 'webpush', subscription } });
export const deleteDevice = (id) => call('DELETE', `/devices/${encodeURIComponent(id)}`);

// Attachments.

function errorOf(status, text) {
  let e = {};
  try {
    e = (JSON.parse(text) || {}).error || {};
  } catch {
    e = {};
  }
  return new ApiError(status, e.code, e.message);
}

// post sends one upload with XMLHttpRequest, which (unlike fetch) reports upload progress.
function post(path, form, token, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', BASE + path);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText));
        } catch {
          reject(new ApiError(xhr.status, 'internal', 'The server sent an answer that could not be read.'));
        }
      } else reject(errorOf(xhr.status, xhr.responseText));
    };
    xhr.onerror = () => reject(new NetworkError('You are offline or the server cannot be reached.'));
    xhr.onabort = () => reject(new DOMException('The upload was cancelled.', 'AbortError'));
    if (signal) {
      if (signal.aborted) {
        reject(new DOMException('The upload was cancelled.', 'AbortError'));
        return;
      }
      signal.addEventListener('abort', () => xhr.abort(), { once: true });
    }
    xhr.send(form);
  });
}

/**
 * uploadAttachment uploads a file to a room as the multipart field "file", calling
 * onProgress(fraction) as the bytes go out, and returns {attachment}. A refused token is
 * refreshed and the upload sent once more.
 */
export async function uploadAttachment(roomId, file, { onProgress, signal } = {}) {
  const path = `/rooms/${encodeURIComponent(roomId)}/attachments`;
  const form = new FormData();
  form.append('file', file, file.name || 'file');
  const token = await accessToken();
  try {
    return await post(path, form, token, onProgress, signal);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401 || !session) throw err;
    await refresh(token);
    return post(path, form, session.access_token, onProgress, signal);
  }
}

/**
 * fetchBlob downloads what a URL handed out by the server (an attachment's url or
 * thumbnail_url) names, with the access token, and returns it as a Blob. Only paths of this
 * server's API are fetched, so the token never goes anywhere else.
 */
export async function fetchBlob(url, { signal } = {}) {
  if (typeof url !== 'string' || !url.startsWith(`${BASE}/`)) throw new ApiError(400, 'invalid_argument', 'Not a file of this server.');
  const get = async (token) => {
    try {
      return await fetch(url, { headers: { Authorization: `Bearer ${token}` }, signal });
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      throw new NetworkError('You are offline or the server cannot be reached.');
    }
  };
  const token = await accessToken();
  let res = await get(token);
  if (res.status === 401 && session) {
    await refresh(token);
    res = await get(session.access_token);
  }
  if (!res.ok) throw errorOf(res.status, await res.text());
  return res.blob();
}
