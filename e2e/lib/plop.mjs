// Helpers shared by the tests: the server under test (from the environment the Go driver
// sets), REST calls, sign-up codes read from the outbox folder, and polling with a deadline.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** env returns the server under test, as e2e_test.go passes it. */
export function env() {
  const url = process.env.PLOP_URL;
  const dataDir = process.env.PLOP_DATA_DIR;
  if (!url || !dataDir) {
    throw new Error('PLOP_URL and PLOP_DATA_DIR must be set (run these tests through go test ./e2e)');
  }
  return {
    url,
    wsURL: process.env.PLOP_WS_URL || url.replace(/^http/, 'ws') + '/ws',
    dataDir,
    outbox: join(dataDir, 'outbox'),
  };
}

/** waitFor polls fn until it returns a truthy value and returns it, or throws after timeoutMs. */
export async function waitFor(fn, { timeoutMs = 10000, intervalMs = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${lastErr.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** api sends a JSON request and returns the decoded answer; it throws unless the status is want. */
export async function api(method, path, { token, body, want } = {}) {
  const { url } = env();
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const ok = want === undefined ? res.ok : res.status === want;
  if (!ok) throw new Error(`${method} ${path}: status ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

let seq = 0;

/** uniqueEmail returns an address no other test of this run uses. */
export function uniqueEmail(name) {
  seq += 1;
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '.');
  return `${slug}.${process.pid}.${Date.now().toString(36)}.${seq}@example.com`;
}

const codeSubject = /^Subject: (\d{6}) is your Plop code\r?$/m;

/** codeFor returns the code of the newest sign-up e-mail to email, waiting for it to arrive. */
export async function codeFor(email, { notBefore = 0 } = {}) {
  const { outbox } = env();
  return waitFor(async () => {
    let names;
    try {
      names = (await readdir(outbox)).filter((n) => n.endsWith('.eml') && !n.startsWith('.')).sort();
    } catch (err) {
      if (err.code === 'ENOENT') return null;
      throw err;
    }
    const mine = [];
    for (const name of names) {
      const text = await readFile(join(outbox, name), 'utf8');
      const head = text.split(/\r?\n\r?\n/, 1)[0];
      const to = /^To: (.*)$/im.exec(head);
      const m = codeSubject.exec(head);
      if (to && m && to[1].toLowerCase().includes(email.toLowerCase())) mine.push(m[1]);
    }
    return mine.length > notBefore ? mine[mine.length - 1] : null;
  }, { what: `the sign-up code e-mailed to ${email}` });
}

/** countCodes returns how many code e-mails went to email so far. */
export async function countCodes(email) {
  const { outbox } = env();
  let names;
  try {
    names = (await readdir(outbox)).filter((n) => n.endsWith('.eml') && !n.startsWith('.'));
  } catch (err) {
    if (err.code === 'ENOENT') return 0;
    throw err;
  }
  let n = 0;
  for (const name of names) {
    const head = (await readFile(join(outbox, name), 'utf8')).split(/\r?\n\r?\n/, 1)[0];
    const to = /^To: (.*)$/im.exec(head);
    if (to && codeSubject.test(head) && to[1].toLowerCase().includes(email.toLowerCase())) n += 1;
  }
  return n;
}

/** signupVerified creates a verified account over REST and returns it with its tokens. */
export async function signupVerified(name) {
  const email = uniqueEmail(name);
  const password = 'correct horse battery staple';
  const { user } = await api('POST', '/api/v1/auth/signup', { body: { email, password, name }, want: 201 });
  const code = await codeFor(email);
  const tokens = await api('POST', '/api/v1/auth/verify', { body: { email, code }, want: 200 });
  return { id: user.id, email, name, password, token: tokens.access_token, refreshToken: tokens.refresh_token };
}

/** makeFriends has a send a friend request to b and b accept it. */
export async function makeFriends(a, b) {
  const { request } = await api('POST', '/api/v1/friends/requests', { token: a.token, body: { user_id: b.id }, want: 201 });
  await api('POST', `/api/v1/friends/requests/${request.id}/accept`, { token: b.token, want: 200 });
}

/** directRoom returns the direct room of a and b, creating it. */
export async function directRoom(a, b) {
  const { room } = await api('POST', '/api/v1/rooms', { token: a.token, body: { type: 'direct', member_ids: [b.id] } });
  return room;
}
