// Photos and files picked for the next message of a room: each is uploaded at once, with its
// progress shown, and sent with the message as an attachment id. They are never queued for
// later: an upload needs the network now.
import * as api from './api.js';
import { state, update } from './store.js';
import { fileSize } from './format.js';

/** Limits of the server: images are re-encoded up to 20 MiB, other files are kept up to 50 MiB. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
export const MAX_FILE_BYTES = 50 * 1024 * 1024;
/** MAX_PER_MESSAGE is how many attachments one message may carry. */
export const MAX_PER_MESSAGE = 10;

const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

let seq = 0;

/** isPhoto tells a file the server keeps as a photo (by its declared type). */
export function isPhoto(file) {
  return PHOTO_TYPES.includes(file.type);
}

function list(roomId) {
  return state.uploads.get(roomId) || [];
}

function change(roomId, key, patch) {
  update((s) => {
    const l = s.uploads.get(roomId);
    const u = l && l.find((x) => x.key === key);
    if (u) Object.assign(u, patch);
  });
}

/** tooBig returns why a file cannot be sent because of its size, or ''. */
function tooBig(file) {
  const name = file.name || 'The file';
  if (isPhoto(file) && file.size > MAX_IMAGE_BYTES) return `${name} is ${fileSize(file.size)}: photos may be at most ${fileSize(MAX_IMAGE_BYTES)}.`;
  if (file.size > MAX_FILE_BYTES) return `${name} is ${fileSize(file.size)}: files may be at most ${fileSize(MAX_FILE_BYTES)}.`;
  return '';
}

/** failure turns a failed upload into a sentence. */
function failure(file, err) {
  const name = file.name || 'The file';
  if (err instanceof api.NetworkError) return `${name} was not uploaded: you are offline or the server cannot be reached. Photos and files are not kept for later.`;
  if (err instanceof api.ApiError && err.status === 413) return `${name} is too big to send. ${err.message}`;
  if (err instanceof api.ApiError && err.status === 404 && /no such API path/i.test(err.message)) return 'This server does not take photos or files.';
  return `${name} was not uploaded: ${err.message}`;
}

/**
 * addFiles starts uploading files to roomId. It returns a sentence when some files were not
 * taken (too many, too big), '' otherwise; failed uploads show their reason in the strip.
 */
export function addFiles(roomId, files) {
  const notes = [];
  let room = MAX_PER_MESSAGE - list(roomId).length;
  for (const file of files) {
    if (room <= 0) {
      notes.push(`A message may carry at most ${MAX_PER_MESSAGE} photos or files.`);
      break;
    }
    const big = tooBig(file);
    if (big) {
      notes.push(big);
      continue;
    }
    room -= 1;
    start(roomId, file);
  }
  return notes.join(' ');
}

function start(roomId, file) {
  seq += 1;
  const u = {
    key: `u${seq}`,
    file,
    name: file.name || 'file',
    size: file.size,
    photo: isPhoto(file),
    preview: isPhoto(file) ? URL.createObjectURL(file) : '',
    progress: 0,
    status: 'uploading', // 'uploading' | 'ready' | 'failed'
    error: '',
    attachment: null,
    abort: new AbortController(),
  };
  update((s) => s.uploads.set(roomId, [...list(roomId), u]));
  run(roomId, u);
}

async function run(roomId, u) {
  try {
    const { attachment } = await api.uploadAttachment(roomId, u.file, {
      signal: u.abort.signal,
      onProgress: (f) => change(roomId, u.key, { progress: f }),
    });
    change(roomId, u.key, { status: 'ready', progress: 1, attachment });
  } catch (err) {
    if (err.name === 'AbortError') return;
    if (err instanceof api.ApiError && err.status === 404 && /no such API path/i.test(err.message)) {
      update((s) => {
        s.attachmentsUnsupported = true;
      });
    }
    change(roomId, u.key, { status: 'failed', error: failure(u.file, err) });
  }
}

/** retry uploads a failed file again. */
export function retry(roomId, key) {
  const u = list(roomId).find((x) => x.key === key);
  if (!u || u.status !== 'failed') return;
  u.abort = new AbortController();
  change(roomId, key, { status: 'uploading', progress: 0, error: '' });
  run(roomId, u);
}

function drop(u) {
  u.abort.abort();
  if (u.preview) URL.revokeObjectURL(u.preview);
}

/** remove takes a file off the next message, stopping its upload. */
export function remove(roomId, key) {
  update((s) => {
    const l = list(roomId);
    const u = l.find((x) => x.key === key);
    if (u) drop(u);
    const left = l.filter((x) => x.key !== key);
    if (left.length) s.uploads.set(roomId, left);
    else s.uploads.delete(roomId);
  });
}

/** takeReady removes the uploaded files from the strip and returns their attachments. */
export function takeReady(roomId) {
  const l = list(roomId);
  const ready = l.filter((u) => u.status === 'ready');
  update((s) => {
    for (const u of ready) drop(u);
    const left = l.filter((u) => u.status !== 'ready');
    if (left.length) s.uploads.set(roomId, left);
    else s.uploads.delete(roomId);
  });
  return ready.map((u) => u.attachment);
}

/** dropAll stops every upload and frees the previews (logout). */
export function dropAll() {
  for (const l of state.uploads.values()) for (const u of l) drop(u);
  state.uploads.clear();
}
