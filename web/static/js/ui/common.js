// Small pieces used on every screen: avatars, icons, links.
import { html } from '../../vendor/htm/standalone.module.js';
import { initials, colorClass } from '../format.js';
import { linkHandler } from '../router.js';

/**
 * Avatar shows a user's or group's picture, or their initials on a colour, with an optional
 * green dot when they are active. It is decorative: the name is always written beside it.
 */
export function Avatar({ id, name, url, size = 'md', online = false }) {
  return html`<span class="avatar avatar-${size} ${url ? '' : colorClass(id)}" aria-hidden="true">
    ${url ? html`<img src=${url} alt="" loading="lazy" />` : html`<span class="initials">${initials(name)}</span>`}
    ${online ? html`<span class="dot"></span>` : null}
  </span>`;
}

/** GroupAvatar shows two members' avatars overlapping, as group chats do. */
export function GroupAvatar({ room, users, me, size = 'md' }) {
  const others = room.members.filter((m) => m.user_id !== me);
  const shown = (others.length >= 2 ? others : room.members).slice(0, 2).map((m) => users.get(m.user_id) || { id: m.user_id, name: '?' });
  if (shown.length < 2) return html`<${Avatar} id=${room.id} name=${room.name} size=${size} />`;
  return html`<span class="avatar avatar-${size} group-avatar" aria-hidden="true">
    ${shown.map((u) => html`<${Avatar} id=${u.id} name=${u.name} url=${u.avatar_url} size="xs" />`)}
  </span>`;
}

/** Link is an <a> that navigates inside the app. */
export function Link({ href, children, ...rest }) {
  return html`<a href=${href} onClick=${linkHandler} ...${rest}>${children}</a>`;
}

const paths = {
  edit: 'M3 17.25V21h3.75L17.81 9.94l-3.75-3.75L3 17.25zm17.71-10.21a1 1 0 0 0 0-1.41l-2.34-2.34a1 1 0 0 0-1.41 0l-1.83 1.83 3.75 3.75 1.83-1.83z',
  people: 'M16 11c1.66 0 2.99-1.34 2.99-3S17.66 5 16 5c-1.66 0-3 1.34-3 3s1.34 3 3 3zm-8 0c1.66 0 2.99-1.34 2.99-3S9.66 5 8 5C6.34 5 5 6.34 5 8s1.34 3 3 3zm0 2c-2.33 0-7 1.17-7 3.5V19h14v-2.5c0-2.33-4.67-3.5-7-3.5zm8 0c-.29 0-.62.02-.97.05 1.16.84 1.97 1.97 1.97 3.45V19h6v-2.5c0-2.33-4.67-3.5-7-3.5z',
  back: 'M20 11H7.83l5.59-5.59L12 4l-8 8 8 8 1.41-1.41L7.83 13H20v-2z',
  send: 'M2.01 21 23 12 2.01 3 2 10l15 2-15 2z',
  info: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm1 15h-2v-6h2v6zm0-8h-2V7h2v2z',
  close: 'M19 6.41 17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12z',
  reply: 'M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11z',
  smile: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm-3.5 6a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zm7 0a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zM12 17.5c-2.33 0-4.31-1.46-5.11-3.5h10.22c-.8 2.04-2.78 3.5-5.11 3.5z',
  trash: 'M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z',
  bell: 'M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2zm6-6v-5c0-3.07-1.64-5.64-4.5-6.32V4a1.5 1.5 0 0 0-3 0v.68C7.63 5.36 6 7.92 6 11v5l-2 2v1h16v-1l-2-2z',
  plus: 'M19 13h-6v6h-2v-6H5v-2h6V5h2v6h6v2z',
  check: 'M9 16.17 4.83 12l-1.42 1.41L9 19 21 7l-1.41-1.41z',
  chat: 'M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z',
  attach: 'M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6h-1.5z',
  file: 'M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8l-6-6zm2 16H8v-2h8v2zm0-4H8v-2h8v2zm-3-5V3.5L18.5 9H13z',
  download: 'M19 9h-4V3H9v6H5l7 7 7-7zM5 18v2h14v-2H5z',
  photo: 'M21 19V5a2 2 0 0 0-2-2H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2zM8.5 13.5l2.5 3 3.5-4.5 4.5 6H5l3.5-4.5z',
  retry: 'M17.65 6.35A7.96 7.96 0 0 0 12 4a8 8 0 1 0 7.75 10h-2.08A6 6 0 1 1 12 6c1.66 0 3.14.69 4.22 1.78L13 11h7V4l-2.35 2.35z',
};

/** Icon is a decorative SVG icon; the button or link around it carries the name. */
export function Icon({ name }) {
  return html`<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d=${paths[name]} /></svg>`;
}

/** IconButton is a round button with an icon and an accessible name. */
export function IconButton({ icon, label, onClick, className = '', ...rest }) {
  return html`<button type="button" class="icon-btn ${className}" aria-label=${label} title=${label} onClick=${onClick} ...${rest}>
    <${Icon} name=${icon} />
  </button>`;
}

/** IconLink is IconButton as an in-app link. */
export function IconLink({ icon, label, href, className = '' }) {
  return html`<${Link} href=${href} class="icon-btn ${className}" aria-label=${label} title=${label}><${Icon} name=${icon} /><//>`;
}

/** errorText turns a failed call into a sentence for the user. */
export function errorText(err) {
  if (!err) return '';
  return err.message || String(err);
}
