// The service worker of Plop: it shows the push notifications the server sends while no tab
// is connected (one per room, replaced as messages arrive, with their count), and opens the
// room when one is clicked. It does not cache or intercept requests.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

/**
 * notificationOf turns a push payload {title, body, room_id, count, tag, data} into the
 * title and options of a notification.
 */
function notificationOf(p) {
  const count = Number(p.count) || 1;
  const text = typeof p.body === 'string' ? p.body : '';
  const body = count > 1 ? `${count} new messages${text ? `\n${text}` : ''}` : text || 'New message';
  const roomId = p.room_id || (p.data && p.data.room_id) || '';
  return {
    title: p.title || 'Plop',
    options: {
      body,
      tag: p.tag || (roomId ? `room-${roomId}` : 'plop'),
      renotify: true, // a newer message in the same room alerts again
      icon: '/favicon.svg',
      data: { room_id: roomId, ...(p.data || {}) },
    },
  };
}

let showing = Promise.resolve(); // the notification being shown

// newest maps a notification tag to the seq of the newest message shown under it during this
// worker's life. It is read from the shown notifications once, at the worker's first push, and
// kept here after that: a notification's listing can lag behind showNotification, and a
// listing taken while another notification is being shown can miss it.
let newest = null;

/**
 * showPush shows the notification of one push payload, replacing the room's earlier one. A
 * payload that arrives late, after a newer one of the same room (data.seq is the room's last
 * message), is dropped.
 */
self.showPush = function showPush(payload) {
  const { title, options } = notificationOf(payload || {});
  const seq = Number(options.data.seq) || 0;
  // One at a time: pushes that arrive together must see each other's notifications.
  const turn = showing.then(async () => {
    if (newest === null) {
      newest = new Map();
      for (const n of await self.registration.getNotifications()) {
        const s = Number(n.data && n.data.seq) || 0;
        if (s > (newest.get(n.tag) || 0)) newest.set(n.tag, s);
      }
    }
    if (seq && (newest.get(options.tag) || 0) > seq) return;
    await self.registration.showNotification(title, options);
    if (seq) newest.set(options.tag, seq);
  });
  showing = turn.catch(() => {});
  return turn;
};

/** openRoom focuses a tab of the app on the room, or opens one. */
self.openRoom = async function openRoom(roomId) {
  const path = roomId ? `/t/${encodeURIComponent(roomId)}` : '/';
  const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const tab = tabs.find((c) => new URL(c.url).origin === self.location.origin);
  if (tab) {
    await tab.focus().catch(() => {});
    tab.postMessage({ type: 'plop.open', path });
    return tab;
  }
  return self.clients.openWindow(path);
};

self.addEventListener('push', (event) => {
  let payload = {};
  if (event.data) {
    try {
      payload = event.data.json();
    } catch {
      payload = { body: event.data.text() };
    }
  }
  event.waitUntil(self.showPush(payload));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  event.waitUntil(self.openRoom(data.room_id || ''));
});
