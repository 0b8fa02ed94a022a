// Interoperability of Plop's STOMP endpoint with @stomp/stompjs, the JavaScript client most
// web and React Native apps use, running unchanged over the `ws` package in Node.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';
import { env, api, signupVerified, makeFriends, directRoom, waitFor } from './lib/plop.mjs';

/**
 * newClient returns a stompjs Client with the library's defaults apart from the URL, the
 * CONNECT headers and the WebSocket factory (Node 20 has no global WebSocket). The factory
 * offers the same subprotocols stompjs offers when it opens the socket itself.
 */
function newClient(token, extra = {}) {
  const { wsURL } = env();
  const client = new Client({
    brokerURL: wsURL,
    connectHeaders: { Authorization: `Bearer ${token}` },
    webSocketFactory: () => new WebSocket(wsURL, client.stompVersions.protocolVersions()),
    ...extra,
  });
  return client;
}

/** connect activates client and resolves with the CONNECTED frame. */
function connect(client) {
  return new Promise((resolve, reject) => {
    client.onConnect = resolve;
    client.onStompError = (f) => reject(new Error(`ERROR frame: ${f.headers.message} ${f.body}`));
    client.onWebSocketError = () => reject(new Error('WebSocket error'));
    client.activate();
  });
}

/** inbox collects the JSON events delivered to one subscription, with their frame headers. */
function inbox(client, destination) {
  const events = [];
  const sub = client.subscribe(destination, (m) => {
    events.push({ headers: m.headers, event: JSON.parse(m.body) });
  });
  return { events, sub };
}

const clients = [];
let alice;
let bob;
let carol;
let room;

before(async () => {
  [alice, bob, carol] = await Promise.all([signupVerified('Alice'), signupVerified('Bob'), signupVerified('Carol')]);
  await makeFriends(alice, bob);
  room = await directRoom(alice, bob);
});

after(async () => {
  await Promise.all(clients.map((c) => c.deactivate({ force: true })));
});

test('stompjs connects, sends with a receipt, and the other member receives it', async () => {
  const a = newClient(alice.token);
  const b = newClient(bob.token);
  clients.push(a, b);
  const [connectedA, connectedB] = await Promise.all([connect(a), connect(b)]);

  // STOMP 1.2 negotiated through the WebSocket subprotocol and the CONNECT frame.
  assert.equal(a.connectedVersion, '1.2');
  assert.equal(connectedB.headers.version, '1.2');
  assert.equal(a.webSocket.protocol, 'v12.stomp');

  // Heart-beats: stompjs asks for 10000,10000 by default; the server must answer with a
  // heart-beat header that agrees to exchange them in both directions.
  const hb = connectedA.headers['heart-beat'];
  assert.match(hb ?? '', /^\d+,\d+$/, `CONNECTED heart-beat header: ${hb}`);
  const [serverSends, serverWants] = hb.split(',').map(Number);
  assert.ok(serverSends > 0, `server offers no heart-beats: ${hb}`);
  assert.ok(serverWants > 0, `server wants no heart-beats: ${hb}`);

  const bobQueue = inbox(b, '/user/queue/events');
  const bobTopic = inbox(b, `/topic/rooms.${room.id}`);
  const aliceTopic = inbox(a, `/topic/rooms.${room.id}`);
  // A subscription is in place once the server has answered a frame sent after it: a receipt
  // on a harmless typing indicator proves the SUBSCRIBE frames before it were handled.
  await publishWithReceipt(b, `/app/rooms.${room.id}.typing`, { typing: false });
  await publishWithReceipt(a, `/app/rooms.${room.id}.typing`, { typing: false });

  const clientMsgID = randomUUID();
  const receipt = await publishWithReceipt(a, `/app/rooms.${room.id}.messages`, {
    body: 'Hello from stompjs 👋',
    client_msg_id: clientMsgID,
  });
  assert.equal(receipt.command, 'RECEIPT');

  // The receipt comes after the message is stored: history has it at once.
  const { messages } = await api('GET', `/api/v1/rooms/${room.id}/messages?limit=5`, { token: bob.token });
  const stored = messages.find((m) => m.client_msg_id === clientMsgID);
  assert.ok(stored, 'message acknowledged by RECEIPT is not in history');
  assert.equal(stored.body, 'Hello from stompjs 👋');
  assert.equal(stored.sender_id, alice.id);

  for (const [label, box] of [['user queue', bobQueue], ['room topic', bobTopic], ['sender topic', aliceTopic]]) {
    const got = await waitFor(
      () => box.events.find((e) => e.event.type === 'message.created' && e.event.message.client_msg_id === clientMsgID),
      { what: `message.created on Bob's ${label}` },
    );
    assert.equal(got.event.room_id, room.id);
    assert.equal(got.event.message.body, 'Hello from stompjs 👋');
    assert.equal(got.event.message.seq, stored.seq);
    assert.equal(got.headers['room-id'], room.id);
    assert.equal(got.headers.seq, String(stored.seq));
    assert.match(got.headers['content-type'], /^application\/json/);
    assert.ok(got.headers['message-id'], 'MESSAGE without message-id');
    assert.equal(got.headers.subscription, label === 'user queue' ? bobQueue.sub.id : label === 'room topic' ? bobTopic.sub.id : aliceTopic.sub.id);
  }

  // Sending the same client_msg_id again (a retry after a lost receipt) stores nothing new.
  await publishWithReceipt(a, `/app/rooms.${room.id}.messages`, { body: 'Hello from stompjs 👋', client_msg_id: clientMsgID });
  const again = await api('GET', `/api/v1/rooms/${room.id}/messages?after=${stored.seq - 1}`, { token: alice.token });
  assert.equal(again.messages.filter((m) => m.client_msg_id === clientMsgID).length, 1, 'a retried send was stored twice');

  // A read receipt sent over STOMP reaches the other member as room.read.
  await publishWithReceipt(b, `/app/rooms.${room.id}.read`, { seq: stored.seq });
  await waitFor(
    () => aliceTopic.events.find((e) => e.event.type === 'room.read' && e.event.user_id === bob.id && e.event.seq >= stored.seq),
    { what: 'room.read from Bob' },
  );

  // Bob answers; Alice gets it on her room topic.
  const reply = randomUUID();
  await publishWithReceipt(b, `/app/rooms.${room.id}.messages`, { body: 'Hi Alice', client_msg_id: reply, reply_to: stored.seq });
  const answer = await waitFor(
    () => aliceTopic.events.find((e) => e.event.type === 'message.created' && e.event.message.client_msg_id === reply),
    { what: "Bob's reply on Alice's topic" },
  );
  assert.equal(answer.event.message.reply_to, stored.seq);

  // DISCONNECT: stompjs sends it with a receipt and reports onDisconnect when the server
  // acknowledges it.
  const disconnected = new Promise((resolve) => { b.onDisconnect = resolve; });
  await b.deactivate();
  const frame = await disconnected;
  assert.equal(frame.command, 'RECEIPT');
  assert.equal(b.connected, false);
});

test('typing indicators reach the other member and not the typist', async () => {
  const a = newClient(alice.token);
  const b = newClient(bob.token);
  clients.push(a, b);
  await Promise.all([connect(a), connect(b)]);
  const bobQueue = inbox(b, '/user/queue/events');
  const aliceQueue = inbox(a, '/user/queue/events');
  await publishWithReceipt(b, `/app/rooms.${room.id}.typing`, { typing: false });
  await publishWithReceipt(a, `/app/rooms.${room.id}.typing`, { typing: true });
  const got = await waitFor(
    () => bobQueue.events.find((e) => e.event.type === 'typing' && e.event.user_id === alice.id && e.event.typing),
    { what: 'typing from Alice' },
  );
  assert.equal(got.event.room_id, room.id);
  // Alice's own connection gets a later event (Bob's stop) but never her own indicator.
  await publishWithReceipt(b, `/app/rooms.${room.id}.typing`, { typing: false });
  await waitFor(() => aliceQueue.events.find((e) => e.event.type === 'typing' && e.event.user_id === bob.id), { what: "Bob's typing event" });
  assert.equal(aliceQueue.events.filter((e) => e.event.type === 'typing' && e.event.user_id === alice.id).length, 0);
  await Promise.all([a.deactivate(), b.deactivate()]);
});

test('a non-member subscribing to a room topic gets an ERROR frame', async () => {
  const c = newClient(carol.token);
  clients.push(c);
  await connect(c);
  const error = new Promise((resolve) => { c.onStompError = resolve; });
  c.subscribe(`/topic/rooms.${room.id}`, () => assert.fail('a non-member received a room event'));
  const frame = await error;
  assert.equal(frame.command, 'ERROR');
  assert.ok(frame.headers.message, 'ERROR frame without a message header');
  await c.deactivate({ force: true });
});

test('a bad access token gets an ERROR frame and the socket is closed', async () => {
  const c = newClient('not-a-token');
  clients.push(c);
  const closed = new Promise((resolve) => { c.onWebSocketClose = resolve; });
  const error = new Promise((resolve) => { c.onStompError = resolve; });
  c.onConnect = () => assert.fail('connected with a bad token');
  c.activate();
  const frame = await error;
  assert.equal(frame.command, 'ERROR');
  await closed;
  assert.equal(c.connected, false);
  await c.deactivate({ force: true }); // stop stompjs from reconnecting
});

test('the server sends heart-beats and accepts the client\'s', async () => {
  // Shorter intervals than the defaults so the test sees several beats in a few seconds;
  // the server may stretch them to its own minimum, which the header tells.
  const c = newClient(alice.token, { heartbeatIncoming: 1000, heartbeatOutgoing: 1000 });
  clients.push(c);
  let beats = 0;
  c.onHeartbeatReceived = () => { beats += 1; };
  let lost = false;
  c.onHeartbeatLost = () => { lost = true; };
  let closed = false;
  c.onWebSocketClose = () => { closed = true; };
  const connected = await connect(c);
  const [serverSends] = connected.headers['heart-beat'].split(',').map(Number);
  assert.ok(serverSends > 0);
  // Idle: no frames but heart-beats in either direction. Two beats from the server prove
  // it keeps sending them, and the connection staying open proves it accepts the client's.
  await waitFor(() => beats >= 2, { timeoutMs: 2 * serverSends + 5000, what: 'two server heart-beats' });
  assert.equal(lost, false, 'stompjs reported a lost heart-beat');
  assert.equal(closed, false, 'the server closed an idle connection that sent heart-beats');
  assert.equal(c.connected, true);
  await c.deactivate();
});

/** publishWithReceipt sends body to destination with a receipt header and waits for the RECEIPT. */
function publishWithReceipt(client, destination, body) {
  const receiptId = `r-${randomUUID()}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no RECEIPT for SEND to ${destination}`)), 10000);
    client.watchForReceipt(receiptId, (frame) => {
      clearTimeout(timer);
      resolve(frame);
    });
    client.publish({ destination, body: JSON.stringify(body), headers: { receipt: receiptId, 'content-type': 'application/json' } });
  });
}
