// The one STOMP connection of the app: @stomp/stompjs over the WebSocket at /ws, subscribed to
// /user/queue/events, which carries every event of every room of the user. stompjs reconnects
// with exponential backoff after a drop; each connect takes a fresh access token.
import { accessToken, refresh, ApiError } from './api.js';

const { Client, ReconnectionTimeMode } = globalThis.StompJs || {};

let client = null;
let handlers = null;
let hadConnection = false;
let tokenRejected = false;
let usedToken = ''; // the access token of the last CONNECT

/**
 * start opens the connection. h has onEvent(event, headers), onStatus('connecting' |
 * 'online' | 'offline'), onConnect(isReconnect) and onAuthLost().
 */
export function start(h) {
  if (!Client) throw new Error('the STOMP library did not load');
  stop();
  handlers = h;
  hadConnection = false;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const c = new Client({
    brokerURL: `${scheme}//${location.host}/ws`,
    reconnectDelay: 1000,
    reconnectTimeMode: ReconnectionTimeMode.EXPONENTIAL,
    maxReconnectDelay: 30000,
    heartbeatIncoming: 10000,
    heartbeatOutgoing: 10000,
    connectionTimeout: 10000,
    // A socket that fails (no CONNECTED in time, heart-beats lost) is dropped at once rather
    // than closed politely: a close handshake over a dead network can take minutes.
    discardWebsocketOnCommFailure: true,
    // localStorage['plop.debug'] = '1' logs every frame to the console, for troubleshooting.
    debug: localStorage.getItem('plop.debug') ? (m) => console.debug(`[stomp] ${m}`) : () => {},
  });
  // An error thrown here would stop stompjs from ever reconnecting: never throw.
  c.beforeConnect = async () => {
    try {
      if (tokenRejected) {
        tokenRejected = false;
        await refresh(usedToken);
      }
      usedToken = await accessToken();
      c.connectHeaders = { Authorization: `Bearer ${usedToken}` };
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        await c.deactivate();
        handlers && handlers.onAuthLost();
      }
      // Offline: try with the token we have; the socket fails and stompjs retries later.
    }
  };
  c.onConnect = () => {
    c.subscribe('/user/queue/events', (frame) => {
      let ev;
      try {
        ev = JSON.parse(frame.body);
      } catch {
        return;
      }
      handlers && handlers.onEvent(ev, frame.headers);
    });
    const again = hadConnection;
    hadConnection = true;
    handlers.onStatus('online');
    handlers.onConnect(again);
  };
  c.onStompError = (frame) => {
    // A rejected token is the usual cause: take a fresh one for the next attempt.
    if (/auth|token|expired/i.test(`${frame.headers.message} ${frame.body}`)) tokenRejected = true;
    // The server closes the connection after an ERROR; drop it now rather than wait for a
    // close that a proxy in between may never pass on.
    c.forceDisconnect();
  };
  c.onWebSocketClose = () => {
    for (const reject of waiting.values()) reject(new Error('connection closed before the receipt'));
    waiting.clear();
    if (handlers) handlers.onStatus('offline');
  };
  client = c;
  handlers.onStatus('connecting');
  c.activate();
}

/** stop closes the connection for good (logout). */
export function stop() {
  const c = client;
  client = null;
  handlers = null;
  if (c) c.deactivate();
}

/** reconnectNow skips the backoff wait (the browser says it is online again). */
export function reconnectNow() {
  const c = client;
  if (!c || c.connected) return;
  c.deactivate().then(() => {
    if (client === c) c.activate();
  });
}

/** connected reports whether frames can be sent now. */
export function connected() {
  return !!(client && client.connected);
}

let receiptSeq = 0;
const waiting = new Map(); // receipt id → reject of its publish

/**
 * publish sends a JSON body to destination. With wantReceipt it resolves when the server's
 * RECEIPT arrives, and rejects if the connection drops first.
 */
export function publish(destination, body, wantReceipt = false) {
  const c = client;
  if (!c || !c.connected) return Promise.reject(new Error('not connected'));
  const headers = { 'content-type': 'application/json' };
  if (!wantReceipt) {
    c.publish({ destination, body: JSON.stringify(body), headers });
    return Promise.resolve();
  }
  receiptSeq += 1;
  const id = `r${receiptSeq}-${Date.now().toString(36)}`;
  headers.receipt = id;
  return new Promise((resolve, reject) => {
    waiting.set(id, reject);
    c.watchForReceipt(id, (frame) => {
      waiting.delete(id);
      resolve(frame);
    });
    c.publish({ destination, body: JSON.stringify(body), headers });
  });
}
