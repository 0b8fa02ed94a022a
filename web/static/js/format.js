// Formatting of names, times and presence for display.

/** initials returns up to two capital letters of a name. */
export function initials(name) {
  const words = (name || '?').trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words;
  return letters.map((w) => [...w][0].toUpperCase()).join('') || '?';
}

/** colorClass returns one of eight avatar colour classes, the same for the same id. */
export function colorClass(id) {
  let h = 0;
  for (const ch of id || '') h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return `av-c${h % 8}`;
}

const MIN = 60 * 1000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** shortTime is a conversation list time: "14:05" today, "Mon" this week, else "12 Mar". */
export function shortTime(iso, now = new Date()) {
  if (!iso) return '';
  const d = new Date(iso);
  if (sameDay(d, now)) return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (now - d < 6 * DAY) return d.toLocaleDateString(undefined, { weekday: 'short' });
  if (d.getFullYear() === now.getFullYear()) return d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  return d.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

/** clockTime is "14:05". */
export function clockTime(iso) {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** dayLabel names the day of a separator: "Today", "Yesterday" or the date. */
export function dayLabel(iso, now = new Date()) {
  const d = new Date(iso);
  if (sameDay(d, now)) return 'Today';
  const y = new Date(now);
  y.setDate(y.getDate() - 1);
  if (sameDay(d, y)) return 'Yesterday';
  const opts = { weekday: 'long', day: 'numeric', month: 'long' };
  if (d.getFullYear() !== now.getFullYear()) opts.year = 'numeric';
  return d.toLocaleDateString(undefined, opts);
}

/** dayKey identifies the local day of a time, for day separators. */
export function dayKey(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** ago is "now", "5m", "3h", "2d", "4w" (how long ago). */
export function ago(iso, now = Date.now()) {
  const ms = Math.max(0, now - Date.parse(iso));
  if (ms < MIN) return 'now';
  if (ms < HOUR) return `${Math.floor(ms / MIN)}m`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)}h`;
  if (ms < 7 * DAY) return `${Math.floor(ms / DAY)}d`;
  return `${Math.floor(ms / (7 * DAY))}w`;
}

/** activeText is "Active now", "Active 12m ago" or "" from a presence. */
export function activeText(p) {
  if (!p) return '';
  if (p.online) return 'Active now';
  if (!p.last_seen) return '';
  const a = ago(p.last_seen);
  return a === 'now' ? 'Active just now' : `Active ${a} ago`;
}

/** fileSize is "900 B", "12 KB", "3.4 MB", counting in units of 1024. */
export function fileSize(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  const mb = n / (1024 * 1024);
  if (mb < 1024) return `${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB`;
  return `${(mb / 1024).toFixed(1)} GB`;
}

/**
 * attachmentsText says what a message without text carries, for previews and notifications:
 * "Photo", "3 photos", "File: notes.txt", "2 files".
 */
export function attachmentsText(list) {
  const atts = list || [];
  if (!atts.length) return '';
  const photos = atts.filter((a) => a.kind === 'image').length;
  const files = atts.length - photos;
  const parts = [];
  if (photos) parts.push(photos === 1 ? 'Photo' : `${photos} photos`);
  if (files) {
    const one = atts.find((a) => a.kind !== 'image');
    parts.push(files === 1 ? `File: ${one.name}` : `${files} files`);
  }
  return parts.join(', ');
}

/** messageText is a message's text for a preview: its body, else what it carries. */
export function messageText(m) {
  if (!m) return '';
  return m.body || attachmentsText(m.attachments);
}
