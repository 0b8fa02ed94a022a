// The web app in Chromium, as people use it: Ana on a desktop, Ben on a phone, Cleo joining
// for a group. They sign up with the e-mailed code, become friends, chat both ways, see
// typing and "Seen", react, unsend; then Cleo loses her network while the others write, and
// gets every message exactly once when it comes back.
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { api, waitFor, countCodes, signupVerified } from './lib/plop.mjs';
import { launch, User, DESKTOP, PHONE, waitBubbles, message } from './lib/browser.mjs';

let browser;
let ana;
let ben;
let cleo;

before(async () => {
  browser = await launch();
  ana = await new User(browser, 'Ana Lima', DESKTOP).open();
  ben = await new User(browser, 'Ben Okafor', PHONE).open();
  cleo = await new User(browser, 'Cleo Park', DESKTOP).open();
});

after(async () => {
  if (browser) await browser.close();
});

/**
 * test is node:test's test that, when the body fails, saves a screenshot of every user's
 * screen to PLOP_ARTIFACTS (default e2e/output) to show what went wrong.
 */
function test(name, fn) {
  nodeTest(name, async (t) => {
    try {
      await fn(t);
    } catch (err) {
      const dir = process.env.PLOP_ARTIFACTS || new URL('./output', import.meta.url).pathname;
      const slug = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      await Promise.allSettled([ana, ben, cleo].filter(Boolean).map((u) => u.screenshot(`${dir}/${slug}-${u.name.split(' ')[0]}.png`)));
      t.diagnostic(`screenshots of the failure are in ${dir}`);
      throw err;
    }
  });
}

/** openChat clicks the conversation in the list and waits for its composer. */
async function openChat(user, title) {
  const p = user.page;
  if (!(await p.getByRole('navigation', { name: 'Conversations' }).isVisible())) {
    await p.getByRole('link', { name: 'Back to chats' }).click();
  }
  await p.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`^${title}`) }).click();
  await p.getByRole('textbox', { name: 'Message' }).waitFor();
}

/** png returns a w×h PNG of one colour. */
function png(w, h, [r, g, bl]) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  // A diagonal gradient from the colour to white, so that a picture is seen as one.
  const px = (x, y) => {
    const t = (x + y) / (w + h);
    return [r, g, bl].map((c) => Math.round(c + (255 - c) * t));
  };
  const rows = Array.from({ length: h }, (_, y) => Buffer.from([0, ...Array.from({ length: w }, (_, x) => px(x, y)).flat()]));
  const raw = Buffer.concat(rows);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/**
 * expectNamedControls fails when a button, link, text box or check box on screen has no
 * accessible name, as Chromium's accessibility tree computes it.
 */
async function expectNamedControls(page, where) {
  const tree = await page.locator('body').ariaSnapshot();
  const unnamed = tree.split('\n').filter((l) => /^\s*- (button|link|textbox|checkbox|searchbox|combobox)\b(?! ")/.test(l));
  assert.deepEqual(unnamed, [], `controls without a name on ${where}:\n${tree}`);
}

/** say types text in the composer and presses Enter. */
async function say(user, text) {
  const box = user.page.getByRole('textbox', { name: 'Message' });
  await box.click();
  await box.pressSequentially(text, { delay: 5 });
  await box.press('Enter');
}

test('the sign-in screens', async () => {
  await ana.page.goto('/');
  await ana.page.getByRole('heading', { name: 'Log in to Plop' }).waitFor();
  await ana.shot('desktop-login');
  await ben.page.goto('/signup');
  await ben.page.getByRole('heading', { name: 'Create your account' }).waitFor();
  await ben.shot('phone-signup');
  // A wrong password is refused with a message, not an exception.
  ana.allow(/status of 401/); // the browser logs the refused attempt
  await ana.page.getByLabel('E-mail address').fill('nobody@example.com');
  await ana.page.getByLabel('Password').fill('wrong password');
  await ana.page.getByRole('button', { name: 'Log in' }).click();
  await ana.page.getByRole('alert').filter({ hasText: 'Wrong e-mail address or password' }).waitFor();
  await expectNamedControls(ana.page, 'the log-in screen');
  await expectNamedControls(ben.page, 'the sign-up screen');
});

test('three people sign up with the e-mailed code, one asking for a new code', async () => {
  await Promise.all([ana.signUp(), ben.signUp(), cleo.signUp({ resend: true })]);
  assert.ok(ana.id && ben.id && cleo.id);
  assert.equal(await countCodes(cleo.email), 2, 'Resend code sent no second e-mail');
});

test('a friend request is sent, seen live and accepted', async () => {
  const a = ana.page;
  const b = ben.page;
  // Ana does not want notifications: the offer goes away and stays away.
  await a.getByRole('button', { name: 'Not now' }).click();
  await a.getByRole('button', { name: 'Turn on desktop notifications' }).waitFor({ state: 'hidden' });
  await a.getByRole('link', { name: 'People', exact: true }).first().click();
  await a.getByLabel('Search people by name or e-mail').fill(ben.email);
  await a.getByRole('button', { name: 'Search' }).click();
  await a.getByRole('button', { name: 'Add Ben Okafor as a friend' }).click();
  await a.getByText('Request sent').first().waitFor();

  // Ben's app learns of it over the WebSocket: the People link shows the request.
  await b.getByRole('link', { name: 'People, 1 friend request' }).click();
  await b.getByRole('heading', { name: 'Friend requests' }).waitFor();
  await ben.shot('phone-people-request');
  await b.getByRole('button', { name: 'Accept Ana Lima' }).click();
  await b.getByRole('list', { name: 'Friends' }).getByText('Ana Lima').waitFor();
  // Ana sees Ben among her friends, active now.
  await a.getByRole('list', { name: 'Friends' }).getByText('Ben Okafor').waitFor();
  await a.getByRole('list', { name: 'Friends' }).getByText('Active now').waitFor();

  // A stranger's request is declined, and goes away.
  const dan = await signupVerified('Dan Stranger');
  await api('POST', '/api/v1/friends/requests', { token: dan.token, body: { user_id: ben.id }, want: 201 });
  await b.getByRole('button', { name: 'Decline Dan Stranger' }).click();
  await b.getByRole('button', { name: 'Decline Dan Stranger' }).waitFor({ state: 'hidden' });
  const pending = await api('GET', '/api/v1/friends/requests?direction=outgoing', { token: dan.token });
  assert.equal(pending.requests.length, 0, 'the declined request is still pending');

  // Cleo's friendships are set up over the API to keep the test short.
  for (const friend of [ana, ben]) {
    const { request } = await api('POST', '/api/v1/friends/requests', { token: await cleo.token(), body: { user_id: friend.id }, want: 201 });
    await api('POST', `/api/v1/friends/requests/${request.id}/accept`, { token: await friend.token(), want: 200 });
  }
  await a.getByRole('list', { name: 'Friends' }).getByText('Cleo Park').waitFor();
  await ana.shot('desktop-people');
  await expectNamedControls(ana.page, 'the people screen');
  await expectNamedControls(ben.page, 'the people screen on a phone');
});

test('a 1:1 chat both ways with typing, Seen, replies, reactions, edit and unsend', async () => {
  const a = ana.page;
  const b = ben.page;
  await a.getByRole('link', { name: 'New message' }).click();
  await a.getByRole('button', { name: 'Chat with Ben Okafor' }).click();
  await say(ana, 'Hi Ben! Are you coming on Saturday?');
  await waitBubbles(a, 'Are you coming on Saturday?', 1, 'Ana');

  // The new conversation appears on Ben's phone with an unread badge.
  await b.getByRole('link', { name: 'Back to chats' }).click();
  await b.getByRole('link', { name: 'Ana Lima, 1 unread' }).waitFor();
  await ben.shot('phone-chats');
  await openChat(ben, 'Ana Lima');
  await waitBubbles(b, 'Are you coming on Saturday?', 1, 'Ben');

  // Ben has read it: Ana sees "Seen".
  await message(a, 'Are you coming on Saturday?').getByText('Seen').waitFor();

  // Ben types: Ana sees it.
  const box = b.getByRole('textbox', { name: 'Message' });
  await box.click();
  await box.pressSequentially('Yes', { delay: 20 });
  await a.getByText('Ben is typing…').waitFor();
  await box.press('Shift+Enter');
  await box.pressSequentially('what time?', { delay: 5 });
  await box.press('Enter');
  await waitBubbles(a, 'what time?', 1, 'Ana');
  assert.equal(await message(a, 'what time?').locator('.bubble .text').innerText(), 'Yes\nwhat time?', 'Shift+Enter keeps a new line');
  await a.getByText('Ben is typing…').waitFor({ state: 'hidden' });

  // Ana replies to that message.
  await message(a, 'what time?').hover();
  await message(a, 'what time?').getByRole('button', { name: 'Reply' }).click();
  await say(ana, 'Around 7, at the park');
  await waitBubbles(b, 'Around 7, at the park', 1, 'Ben');
  await b.locator('.reply-quote', { hasText: 'what time?' }).waitFor();

  // Ben reacts with a heart; Ana sees it.
  const target = message(b, 'Around 7, at the park');
  await target.locator('.bubble').click();
  await target.getByRole('button', { name: 'React' }).click();
  await target.getByRole('button', { name: 'React with ❤️' }).click();
  await message(a, 'Around 7, at the park').getByRole('button', { name: '❤️ 1: Ben Okafor' }).waitFor();
  await ben.shot('phone-conversation');

  // Ana edits, then unsends a message; Ben sees both.
  await say(ana, 'Bring snaks');
  await waitBubbles(b, 'Bring snaks', 1, 'Ben');
  await message(a, 'Bring snaks').hover();
  await message(a, 'Bring snaks').getByRole('button', { name: 'Edit' }).click();
  const abox = a.getByRole('textbox', { name: 'Message' });
  await abox.fill('Bring snacks');
  await abox.press('Enter');
  await waitBubbles(b, 'Bring snacks', 1, 'Ben');
  await message(b, 'Bring snacks').getByText('Edited').waitFor();
  await say(ana, 'Oops, wrong chat');
  await waitBubbles(b, 'Oops, wrong chat', 1, 'Ben');
  await message(a, 'Oops, wrong chat').hover();
  await message(a, 'Oops, wrong chat').getByRole('button', { name: 'Unsend' }).click();
  await b.getByText('Ana Lima unsent a message').waitFor();
  await waitBubbles(b, 'Oops, wrong chat', 0, 'Ben');
  await ana.shot('desktop-conversation');
  await expectNamedControls(ana.page, 'a conversation');
  await expectNamedControls(ben.page, 'a conversation on a phone');
});

test('a group of three, and a network cut that loses nothing and doubles nothing', async () => {
  const a = ana.page;
  const c = cleo.page;
  await a.getByRole('link', { name: 'New message' }).click();
  await a.getByLabel('Group name').fill('Saturday picnic');
  const members = a.getByRole('group', { name: 'Members' });
  await members.getByLabel('Ben Okafor').check();
  await members.getByLabel('Cleo Park').check();
  await a.getByRole('button', { name: 'Create group' }).click();
  await a.getByRole('heading', { name: 'Saturday picnic' }).waitFor();
  await say(ana, 'Welcome to the picnic group!');

  await openChat(cleo, 'Saturday picnic');
  await waitBubbles(c, 'Welcome to the picnic group!', 1, 'Cleo');
  await openChat(ben, 'Saturday picnic');
  await waitBubbles(ben.page, 'Welcome to the picnic group!', 1, 'Ben');

  // Cleo's network goes down.
  await cleo.cut();
  await c.getByText('No connection. Reconnecting').waitFor();

  // The others write meanwhile, and so does Cleo: hers waits in the queue.
  const sent = [];
  for (let i = 1; i <= 3; i++) {
    await say(ana, `Ana's note ${i}`);
    await say(ben, `Ben's note ${i}`);
    sent.push(`Ana's note ${i}`, `Ben's note ${i}`);
  }
  await say(cleo, 'Sorry, my train is in a tunnel');
  await message(c, 'Sorry, my train is in a tunnel').getByText('Waiting for network…').waitFor();
  for (const text of sent) await waitBubbles(a, text, 1, 'Ana');
  await cleo.shot('desktop-offline');

  // Back online: the gap is filled from history, the queued message goes out once.
  await cleo.restore();
  await c.getByText('No connection. Reconnecting').waitFor({ state: 'hidden', timeout: 20000 });
  for (const text of sent) await waitBubbles(c, text, 1, 'Cleo');
  await waitBubbles(c, 'Welcome to the picnic group!', 1, 'Cleo');
  await waitBubbles(a, 'Sorry, my train is in a tunnel', 1, 'Ana');
  await waitBubbles(ben.page, 'Sorry, my train is in a tunnel', 1, 'Ben');
  await waitBubbles(c, 'Sorry, my train is in a tunnel', 1, 'Cleo');
  await message(c, 'Sorry, my train is in a tunnel').getByText('Waiting for network…').waitFor({ state: 'hidden' });

  // Live delivery works again after the reconnect.
  await say(ben, 'See you all there');
  await waitBubbles(c, 'See you all there', 1, 'Cleo');

  // Everyone sees the same history in the same order, each message once.
  const order = (p) => p.locator('.history .msg .bubble .text').allInnerTexts();
  const strip = (list) => list;
  await waitFor(async () => JSON.stringify(strip(await order(a))) === JSON.stringify(strip(await order(c))), {
    what: 'the same group history on Ana\'s and Cleo\'s screens',
  });
  const history = strip(await order(c));
  assert.equal(new Set(history).size, history.length, `a message is shown twice: ${history.join(' | ')}`);

  // Group info lists the three members.
  await a.getByRole('button', { name: 'Conversation information' }).click();
  const list = a.getByRole('list', { name: 'Members' });
  for (const name of ['Ana Lima (you)', 'Ben Okafor', 'Cleo Park']) await list.getByText(name).waitFor();
  await ana.shot('desktop-group-info');
  await expectNamedControls(ana.page, 'the group information');

  // Cleo leaves: the group goes from her list and from the members Ana sees.
  await c.getByRole('button', { name: 'Conversation information' }).click();
  await c.getByRole('button', { name: 'Leave group' }).click();
  await c.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /^Saturday picnic/ }).waitFor({ state: 'hidden' });
  await list.getByText('Cleo Park').waitFor({ state: 'hidden' });
  await a.getByText('2 members').first().waitFor();
  // Ana adds her back, and the group comes back to Cleo's list.
  await a.getByRole('button', { name: 'Add people' }).click();
  await a.getByRole('group', { name: 'Add people' }).getByLabel('Cleo Park').check();
  await a.getByRole('button', { name: 'Add', exact: true }).click();
  await list.getByText('Cleo Park').waitFor();
  await openChat(cleo, 'Saturday picnic');
  await waitBubbles(c, 'See you all there', 1, 'Cleo');
  await a.getByRole('button', { name: 'Close information' }).click();
});

test('the conversation list and profile', async () => {
  const a = ana.page;
  await a.getByRole('link', { name: 'Your profile' }).click();
  await a.getByLabel('Status').fill('Packing the picnic basket');
  await a.getByRole('button', { name: 'Save' }).click();
  await a.getByText('Saved.').waitFor();
  await a.getByLabel('Change picture').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png(96, 96, [233, 30, 99]) });
  await a.getByText('Profile picture updated.').waitFor();
  await a.getByRole('link', { name: 'Your profile' }).locator('img[src*="/avatars/"]').waitFor();
  await ana.shot('desktop-profile');
  await expectNamedControls(ana.page, 'the profile screen');
  await openChat(ben, 'Ana Lima');
  await ben.page.getByRole('button', { name: 'Conversation information' }).click();
  await ben.page.getByText('Packing the picnic basket').waitFor();
  await ben.page.getByRole('button', { name: 'Close information' }).click();
  await ben.page.getByRole('link', { name: 'Back to chats' }).click();
  await ben.page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /^Saturday picnic/ }).waitFor();
  await ben.shot('phone-chats-list');
});

test('scrolling up loads older messages, each once and in order', async () => {
  // Ana has written 130 messages to Cleo while Cleo was away.
  const { room } = await api('POST', '/api/v1/rooms', { token: await ana.token(), body: { type: 'direct', member_ids: [cleo.id] } });
  const token = await ana.token();
  const texts = [];
  for (let i = 1; i <= 130; i++) {
    const body = `History ${String(i).padStart(3, '0')}`;
    texts.push(body);
    await api('POST', `/api/v1/rooms/${room.id}/messages`, { token, body: { body, client_msg_id: `hist-${i}` }, want: 201 });
  }
  const c = cleo.page;
  await c.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: 'Ana Lima, 130 unread' }).waitFor();
  await openChat(cleo, 'Ana Lima');
  await waitBubbles(c, 'History 130', 1, 'Cleo');
  assert.equal(await c.locator('.bubble', { hasText: 'History 001' }).count(), 0, 'the whole history was loaded at once');
  const historyBox = c.getByRole('log', { name: 'Messages' });
  await waitFor(async () => {
    await historyBox.evaluate((el) => { el.scrollTop = 0; });
    return (await c.locator('.bubble', { hasText: 'History 001' }).count()) === 1;
  }, { timeoutMs: 20000, intervalMs: 200, what: 'History 001 after scrolling up' });
  await c.getByText('This is the start of your conversation.').waitFor();
  const shown = (await c.locator('.history .msg .bubble .text').allInnerTexts()).filter((t) => t.startsWith('History '));
  assert.deepEqual(shown, texts);
});

test('a rejected access token is refreshed once, shared by every tab', async () => {
  const second = await ana.newPage();
  await second.goto('/');
  await second.getByRole('heading', { name: 'Chats' }).waitFor();
  const first = await ana.page.evaluate(() => JSON.parse(localStorage.getItem('plop.session')).refresh_token);
  // The stored access token goes bad (as after a server key rotation) while it has not expired.
  await ana.page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('plop.session'));
    s.access_token = `x${s.access_token}`;
    s.expires_at = Date.now() + 3600 * 1000;
    localStorage.setItem('plop.session', JSON.stringify(s));
  });
  ana.allow(/status of 401/);
  // Both tabs start at once with the bad token: each REST call gets a 401 and the STOMP
  // CONNECT an ERROR, and every one of them wants a refresh. Were the refresh token presented
  // twice, the server would revoke the whole login and both tabs would be signed out.
  await Promise.all([ana.page.reload(), second.reload()]);
  for (const p of [ana.page, second]) {
    await p.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /^Saturday picnic/ }).waitFor();
  }
  const latest = await ana.page.evaluate(() => JSON.parse(localStorage.getItem('plop.session')));
  assert.notEqual(latest.refresh_token, first, 'the refresh token was not rotated');
  // The newest refresh token still works, so the login was never revoked; the app takes it.
  const again = await second.evaluate(() => import('/js/api.js').then((m) => m.refresh()).then((s) => s.refresh_token));
  assert.ok(again && again !== latest.refresh_token);
  // A token about to expire is refreshed before it is used, without a refused request.
  const before = await second.evaluate(() => JSON.parse(localStorage.getItem('plop.session')).refresh_token);
  ana.allowed = [];
  const me = await second.evaluate(async () => {
    const m = await import('/js/api.js');
    const s = JSON.parse(localStorage.getItem('plop.session'));
    s.expires_at = Date.now() - 1;
    localStorage.setItem('plop.session', JSON.stringify(s));
    window.dispatchEvent(new StorageEvent('storage', { key: 'plop.session' }));
    return (await m.me()).user.name;
  });
  assert.equal(me, 'Ana Lima');
  const after = await second.evaluate(() => JSON.parse(localStorage.getItem('plop.session')).refresh_token);
  assert.notEqual(after, before, 'an expired access token was used without a refresh');

  // And the real-time connection came back with a good token: a message arrives live.
  await openChat(ana, 'Saturday picnic');
  await openChat(ben, 'Saturday picnic');
  await say(ben, 'Token check');
  await waitBubbles(ana.page, 'Token check', 1, 'Ana');
  await second.close();
});

test('a desktop notification for a new message while the tab is hidden', async () => {
  const b = ben.page;
  await ben.context.grantPermissions(['notifications']);
  // The offer is a button, never a prompt on load.
  await b.getByRole('link', { name: 'Back to chats' }).click();
  await b.getByRole('button', { name: 'Turn on desktop notifications' }).click();
  await b.getByRole('button', { name: 'Turn on desktop notifications' }).waitFor({ state: 'hidden' });
  // Record notifications instead of showing them, and hide the tab.
  await b.evaluate(() => {
    window.shown = [];
    window.Notification = class {
      static permission = 'granted';
      constructor(title, options) { window.shown.push({ title, body: options.body }); }
      close() {}
    };
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
  });
  await openChat(ana, 'Ben Okafor');
  await say(ana, 'Are you there?');
  const shown = await waitFor(() => b.evaluate(() => window.shown.length && window.shown), { what: 'a notification on Ben\'s side' });
  assert.deepEqual(shown, [{ title: 'Ana Lima', body: 'Are you there?' }]);
  await b.evaluate(() => { delete document.hidden; });
});

test('log out, and log in again with the password', async () => {
  const a = ana.page;
  await a.getByRole('link', { name: 'Your profile' }).click();
  await a.getByRole('button', { name: 'Log out' }).click();
  await a.getByRole('heading', { name: 'Log in to Plop' }).waitFor();
  assert.equal(await a.evaluate(() => localStorage.getItem('plop.session')), null, 'tokens left in localStorage');
  await a.getByLabel('E-mail address').fill(ana.email);
  await a.getByLabel('Password').fill(ana.password);
  await a.getByRole('button', { name: 'Log in' }).click();
  await a.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /^Saturday picnic/ }).waitFor();
});

test('no console errors or uncaught exceptions', () => {
  for (const u of [ana, ben, cleo]) assert.deepEqual(u.errors, [], `${u.name}'s browser logged errors`);
});
