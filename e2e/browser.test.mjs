// The web app in Chromium, as people use it: Ana on a desktop, Ben on a phone, Cleo joining
// for a group. They sign up with the e-mailed code, become friends, chat both ways, see
// typing and "Seen", react, unsend; then Cleo loses her network while the others write, and
// gets every message exactly once when it comes back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, waitFor } from './lib/plop.mjs';
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

/** openChat clicks the conversation in the list and waits for its composer. */
async function openChat(user, title) {
  const p = user.page;
  if (!(await p.getByRole('navigation', { name: 'Conversations' }).isVisible())) {
    await p.getByRole('link', { name: 'Back to chats' }).click();
  }
  await p.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`^${title}`) }).click();
  await p.getByRole('textbox', { name: 'Message' }).waitFor();
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
  await ana.page.getByLabel('E-mail address').fill('nobody@example.com');
  await ana.page.getByLabel('Password').fill('wrong password');
  await ana.page.getByRole('button', { name: 'Log in' }).click();
  await ana.page.getByRole('alert').filter({ hasText: 'Wrong e-mail address or password' }).waitFor();
  ana.errors.length = 0; // the browser logs the 401 of that attempt
});

test('three people sign up with the e-mailed code', async () => {
  await Promise.all([ana.signUp(), ben.signUp(), cleo.signUp()]);
  assert.ok(ana.id && ben.id && cleo.id);
});

test('a friend request is sent, seen live and accepted', async () => {
  const a = ana.page;
  const b = ben.page;
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

  // Cleo declines nothing and accepts both, set up over the API to keep the test short.
  for (const friend of [ana, ben]) {
    const { request } = await api('POST', '/api/v1/friends/requests', { token: await cleo.token(), body: { user_id: friend.id }, want: 201 });
    await api('POST', `/api/v1/friends/requests/${request.id}/accept`, { token: await friend.token(), want: 200 });
  }
  await a.getByRole('list', { name: 'Friends' }).getByText('Cleo Park').waitFor();
  await ana.shot('desktop-people');
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
});

test('the conversation list and profile', async () => {
  const a = ana.page;
  await a.getByRole('link', { name: 'Your profile' }).click();
  await a.getByLabel('Status').fill('Packing the picnic basket');
  await a.getByRole('button', { name: 'Save' }).click();
  await a.getByText('Saved.').waitFor();
  await ana.shot('desktop-profile');
  await openChat(ben, 'Ana Lima');
  await ben.page.getByRole('button', { name: 'Conversation information' }).click();
  await ben.page.getByText('Packing the picnic basket').waitFor();
  await ben.page.getByRole('button', { name: 'Close information' }).click();
  await ben.page.getByRole('link', { name: 'Back to chats' }).click();
  await ben.page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /^Saturday picnic/ }).waitFor();
  await ben.shot('phone-chats-list');
});

test('no console errors or uncaught exceptions', () => {
  for (const u of [ana, ben, cleo]) assert.deepEqual(u.errors, [], `${u.name}'s browser logged errors`);
});
