// Sending messages. Text waits in a queue (kept in localStorage) while the connection is
// down and goes out over STOMP, in order, each with a receipt; a message whose receipt never
// came is sent again with the same client_msg_id, which the server stores once. A message with
// photos or files is sent at once over REST and never queued.
import * as api from './api.js';
import * as rt from './realtime.js';
import { state, update, roomMessages, putMessages, setPending, savePending } from './store.js';
import { fillGap } from './sync.js';

let outboxBusy = false;

/**
 * send queues a message and sends it now if connected, else on reconnect. A message with
 * attachments (uploaded already) is sent at once over REST and never queued: when it fails,
 * it stays on screen as not sent, for the user to retry or remove.
 */
export function send(roomId, body, replyTo, attachments = []) {
  const p = {
    client_msg_id: crypto.randomUUID(),
    body,
    reply_to: replyTo || null,
    attachment_ids: attachments.map((a) => a.id),
    attachments,
    created_at: new Date().toISOString(),
    state: 'queued',
    error: '',
  };
  update(() => setPending(roomId, [...(state.pending.get(roomId) || []), p]));
  if (attachments.length) sendNow(roomId, p);
  else flushOutbox();
}

const hasAttachments = (p) => !!(p.attachment_ids && p.attachment_ids.length);

// sendNow sends a message with attachments over REST, where a refusal is an answer to this
// one request (over STOMP it would be an ERROR that ends the connection).
async function sendNow(roomId, p) {
  p.state = 'sending';
  p.error = '';
  update();
  try {
    const { message } = await api.sendMessage(roomId, {
      body: p.body,
      client_msg_id: p.client_msg_id,
      reply_to: p.reply_to ?? undefined,
      attachment_ids: p.attachment_ids,
    });
    p.state = 'sent';
    savePending();
    update(() => {
      if (roomMessages(roomId).loaded) putMessages(roomId, [message]);
    });
    confirmStored(roomId, p.client_msg_id);
  } catch (err) {
    p.state = 'failed';
    p.error = err instanceof api.NetworkError
      ? 'Not sent: you are offline. Photos and files are not kept for later.'
      : `Not sent: ${err.message}`;
    savePending();
    update();
  }
}

/** retryPending sends a message with attachments again, after it failed. */
export function retryPending(roomId, clientMsgId) {
  const p = (state.pending.get(roomId) || []).find((x) => x.client_msg_id === clientMsgId);
  if (p && p.state === 'failed') sendNow(roomId, p);
}

/**
 * flushOutbox sends the queued messages, in order, each with a receipt. A message whose
 * receipt never came is sent again with the same client_msg_id, which the server stores once.
 */
export async function flushOutbox() {
  if (outboxBusy) return;
  outboxBusy = true;
  try {
    for (const [roomId, list] of [...state.pending]) {
      for (const p of list) {
        if (p.state !== 'queued' || hasAttachments(p)) continue;
        if (!rt.connected()) return;
        p.state = 'sending';
        update();
        try {
          await rt.publish(`/app/rooms.${roomId}.messages`, { body: p.body, client_msg_id: p.client_msg_id, reply_to: p.reply_to ?? undefined }, true);
          p.state = 'sent';
          savePending();
          update();
          confirmStored(roomId, p.client_msg_id);
        } catch {
          if (p.state === 'sending') p.state = 'queued';
          update();
          return;
        }
      }
    }
  } finally {
    outboxBusy = false;
    const more = [...state.pending.values()].some((l) => l.some((p) => p.state === 'queued' && !hasAttachments(p)));
    if (more && rt.connected()) setTimeout(flushOutbox, 0);
  }
}

// After the receipt the message is stored; its event normally arrives at once. If it does not
// (fan-out is best-effort), history has it.
function confirmStored(roomId, clientMsgId) {
  setTimeout(() => {
    const list = state.pending.get(roomId);
    if (list && list.some((p) => p.client_msg_id === clientMsgId)) fillGap(roomId).catch(() => {});
  }, 1500);
}

/** discardPending removes a queued message that was never sent. */
export function discardPending(roomId, clientMsgId) {
  update(() => setPending(roomId, (state.pending.get(roomId) || []).filter((p) => p.client_msg_id !== clientMsgId || p.state === 'sending')));
}
