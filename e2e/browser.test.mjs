// The web app in Chromium, as people use it: Ana on a desktop, Ben on a phone, Cleo joining
// for a group. They sign up with the e-mailed code, become friends, chat both ways, see
// typing and "Seen", react, unsend, send photos and files; then Cleo loses her network while
// the others write, and gets every message exactly once when it comes back. Push
// notifications go through the service worker.
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { api, waitFor, countCodes, signupVerified, directRoom } from './lib/plop.mjs';
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
  await expectNamedControls(ana.page, 'a conversation');
  await expectNamedControls(ben.page, 'a conversation on a phone');
});

/** attach picks files with the composer's attach button, as a person does. */
async function attach(user, files) {
  const p = user.page;
  const [chooser] = await Promise.all([
    p.waitForEvent('filechooser'),
    p.getByRole('button', { name: 'Attach a photo or file' }).click(),
  ]);
  await chooser.setFiles(files);
}

/** uploaded waits until every file in the composer's strip is uploaded. */
async function uploaded(user, names) {
  const strip = user.page.getByRole('list', { name: 'Photos and files to send' });
  for (const name of names) await strip.getByRole('button', { name: `Remove ${name}` }).waitFor();
  await strip.locator('progress').first().waitFor({ state: 'detached' });
}

/** photoLoaded reports whether the img inside loc has been decoded. */
function photoLoaded(loc) {
  return loc.locator('img').evaluate((img) => img.complete && img.naturalWidth > 0, null, { timeout: 1000 });
}

test('photos and files: sent with and without text, seen, opened, downloaded, and kept from strangers', async () => {
  const a = ana.page;
  const b = ben.page;
  await openChat(ana, 'Ben Okafor');
  const photo = png(640, 480, [46, 125, 50]);
  const list = 'Bread\nCheese\nStrawberries\n';

  // Ana starts typing, then attaches a photo and a text file; both upload while she types.
  const box = a.getByRole('textbox', { name: 'Message' });
  await box.fill('Here is the spot');
  await attach(ana, [
    { name: 'park.png', mimeType: 'image/png', buffer: photo },
    { name: 'picnic list.txt', mimeType: 'text/plain', buffer: Buffer.from(list) },
  ]);
  await uploaded(ana, ['park.png', 'picnic list.txt']);
  await ana.shot('desktop-attachments');
  await box.press('Enter');
  await a.getByRole('list', { name: 'Photos and files to send' }).waitFor({ state: 'detached' });
  await waitBubbles(a, 'Here is the spot', 1, 'Ana');

  // Ben sees the thumbnail, in a box of the photo's shape, and the file. (The server
  // re-encodes photos, so the name may end in .jpg now.)
  const thumb = b.getByRole('button', { name: /^Open photo park\./ });
  await waitFor(() => photoLoaded(thumb), { what: 'the thumbnail on Ben\'s screen' });
  const boxSize = await thumb.boundingBox();
  assert.ok(Math.abs(boxSize.width / boxSize.height - 640 / 480) < 0.05, `the thumbnail box is ${boxSize.width}×${boxSize.height}, not 4:3`);
  assert.match(await thumb.locator('img').getAttribute('src'), /^blob:/);
  const chip = b.locator('.att-file', { hasText: 'picnic list.txt' });
  await chip.getByText(/^\d+ B$/).waitFor();

  // He downloads the file: the same bytes, under its name.
  const [download] = await Promise.all([
    b.waitForEvent('download'),
    chip.getByRole('button', { name: 'Download picnic list.txt' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'picnic list.txt');
  const chunks = [];
  for await (const c of await download.createReadStream()) chunks.push(c);
  assert.equal(Buffer.concat(chunks).toString(), list, 'the downloaded file differs from the sent one');

  // He opens the photo full size in a dialog, and Escape closes it.
  await thumb.click();
  const viewer = b.getByRole('dialog', { name: /^Photo park\./ });
  await viewer.waitFor();
  await waitFor(() => viewer.locator('img').evaluate((img) => img.naturalWidth === 640).catch(() => false), { what: 'the full-size photo' });
  await b.keyboard.press('Escape');
  await viewer.waitFor({ state: 'hidden' });
  await expectNamedControls(b, 'a conversation with a photo on a phone');

  // A photo alone, with no text, is sent with Enter; the conversation list says "Photo".
  await attach(ana, [{ name: 'basket.png', mimeType: 'image/png', buffer: png(300, 400, [255, 143, 0]) }]);
  await uploaded(ana, ['basket.png']);
  await box.press('Enter');
  const thumb2 = b.getByRole('button', { name: /^Open photo basket\./ });
  await waitFor(() => photoLoaded(thumb2), { what: 'the second photo on Ben\'s screen' });
  await a.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /^Ben Okafor/ }).getByText('You: Photo').waitFor();
  await waitFor(() => photoLoaded(a.getByRole('button', { name: /^Open photo basket\./ })), { what: 'the photo on Ana\'s screen' });
  await b.getByRole('textbox', { name: 'Message' }).focus();
  await b.mouse.move(1, 1);
  await ben.shot('phone-conversation');
  await ana.shot('desktop-conversation');
  await expectNamedControls(a, 'a conversation with photos');

  // A photo over the limit is refused before it is sent, and the typed text stays.
  await box.fill('This one is huge');
  await attach(ana, [{ name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(21 * 1024 * 1024) }]);
  await a.getByRole('alert').filter({ hasText: 'photos may be at most 20 MB' }).waitFor();
  assert.equal(await box.inputValue(), 'This one is huge');
  await box.fill('');

  // Only the members of the room may fetch the bytes: a stranger is told there is no such file.
  const { messages } = await api('GET', `/api/v1/rooms/${(await directRoom({ token: await ana.token() }, ben)).id}/messages?limit=5`, { token: await ana.token() });
  const sent = messages.find((m) => m.body === 'Here is the spot');
  assert.equal(sent.attachments.length, 2);
  const img = sent.attachments.find((x) => x.kind === 'image');
  assert.match(img.name, /^park\.(png|jpg)$/);
  assert.deepEqual([img.width, img.height], [640, 480]);
  const dan = await signupVerified('Dan Outsider');
  const asDan = await a.request.get(img.url, { headers: { Authorization: `Bearer ${dan.token}` } });
  assert.equal(asDan.status(), 404, 'a stranger fetched an attachment of a room they are not in');
  const asBen = await a.request.get(img.url, { headers: { Authorization: `Bearer ${await ben.token()}`, Range: 'bytes=0-1' } });
  assert.equal(asBen.status(), 206, 'a member cannot fetch part of the photo');
  assert.equal(asBen.headers()['content-type'], img.content_type);
  assert.equal((await asBen.body()).length, 2);

  // Ben drops two files on the conversation, takes one off again and sends the other alone:
  // Ana's conversation list says what it is.
  const dropped = await b.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['not this one'], 'draft.txt', { type: 'text/plain' }));
    dt.items.add(new File(['Blanket, plates'], 'notes.txt', { type: 'text/plain' }));
    return dt;
  });
  const pane = b.locator('.conv-main');
  await pane.dispatchEvent('dragenter', { dataTransfer: dropped });
  await pane.dispatchEvent('dragover', { dataTransfer: dropped });
  await b.getByText('Drop to attach').waitFor();
  await pane.dispatchEvent('drop', { dataTransfer: dropped });
  await uploaded(ben, ['draft.txt', 'notes.txt']);
  await b.getByRole('button', { name: 'Remove draft.txt' }).click();
  await b.getByRole('button', { name: 'Remove draft.txt' }).waitFor({ state: 'detached' });
  await b.getByRole('button', { name: 'Send', exact: true }).click();
  const anaList = a.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /^Ben Okafor/ });
  await anaList.getByText('File: notes.txt').waitFor();
  await a.locator('.att-file', { hasText: 'notes.txt' }).waitFor();
  assert.equal(await a.locator('.att-file', { hasText: 'draft.txt' }).count(), 0, 'a removed file was sent');

  // He pastes a picture (a screenshot, say) into the message box and sends it with Enter.
  const clipboard = await b.evaluateHandle((b64) => {
    const dt = new DataTransfer();
    dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'image.png', { type: 'image/png' }));
    return dt;
  }, png(200, 150, [156, 39, 176]).toString('base64'));
  const bbox = b.getByRole('textbox', { name: 'Message' });
  await bbox.evaluate((el, dt) => el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true })), clipboard);
  await uploaded(ben, ['image.png']);
  assert.equal(await bbox.inputValue(), '', 'the pasted picture went into the text');
  await bbox.press('Enter');
  await waitFor(() => photoLoaded(a.getByRole('button', { name: /^Open photo image\./ })), { what: 'the pasted photo on Ana\'s screen' });
  await anaList.getByText('Photo', { exact: true }).waitFor();

  // Offline, photos and files are not queued: the app says so and keeps the text.
  await ben.cut();
  await b.getByText('photos and files cannot be sent until then').waitFor();
  await bbox.fill('Look at this');
  await attach(ben, [{ name: 'view.png', mimeType: 'image/png', buffer: png(64, 64, [3, 169, 244]) }]);
  await b.getByRole('alert').filter({ hasText: 'photos and files do not' }).waitFor();
  assert.equal(await bbox.inputValue(), 'Look at this');
  await ben.restore();
  await b.getByText('No connection. Reconnecting').waitFor({ state: 'hidden', timeout: 20000 });
  await bbox.fill('');
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
  await expectNamedControls(ana.page, 'the profile screen');
  await openChat(ben, 'Ana Lima');
  await ben.page.getByRole('button', { name: 'Conversation information' }).click();
  await ben.page.getByText('Packing the picnic basket').waitFor();
  await ben.page.getByRole('button', { name: 'Close information' }).click();
  await ben.page.getByRole('link', { name: 'Back to chats' }).click();
  await ben.page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /^Saturday picnic/ }).waitFor();
  await ben.shot('phone-chats-list');
});

/**
 * pushTo delivers push messages, one after the other, to the page's service worker as a push
 * service would, through the DevTools protocol (headless Chromium has no push service).
 */
async function pushTo(user, payloads) {
  const cdp = await user.context.newCDPSession(user.page);
  const regs = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => regs.push(...e.registrations));
  await cdp.send('ServiceWorker.enable');
  const origin = new URL(user.page.url()).origin;
  const reg = await waitFor(() => regs.find((r) => !r.isDeleted && r.scopeURL === `${origin}/`), { what: 'the service worker registration' });
  for (const payload of payloads) {
    await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: reg.registrationId, data: JSON.stringify(payload) });
  }
  await cdp.detach();
}

test('notifications on this device: the service worker, a push subscription, one notification per room', async (t) => {
  const a = ana.page;
  // The service worker is installed and controls the app.
  await waitFor(() => a.evaluate(() => !!navigator.serviceWorker.controller), { what: 'a service worker controlling the page' });
  const worker = await waitFor(() => ana.context.serviceWorkers().find((w) => new URL(w.url()).pathname === '/sw.js'), { what: 'the service worker' });
  await ana.context.grantPermissions(['notifications']);

  // The toggle turns a push subscription on with the server's key, or says why it cannot.
  await openChat(ana, 'Ben Okafor');
  const room = new URL(a.url()).pathname.split('/').pop();
  await a.getByRole('link', { name: 'Your profile' }).click();
  const toggle = a.getByRole('switch', { name: 'Notifications on this device' });
  await toggle.waitFor();
  await ana.shot('desktop-profile');
  const devices = async () => (await api('GET', '/api/v1/devices', { token: await ana.token() })).devices;
  assert.equal((await devices()).length, 0);
  const keyAsked = a.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/push/vapid-key');
  // Chromium logs why it refuses a subscription in a private context (a test's context is one).
  ana.allow(/does not support the Push API/);
  await toggle.click();
  assert.equal((await keyAsked).status(), 200);
  const outcome = await waitFor(async () => {
    if (await toggle.isChecked()) return 'on';
    if (await a.getByText('Push is not available in this browser').isVisible()) return 'unavailable';
    return null;
  }, { what: 'push turned on, or a message that it is not available' });
  if (outcome === 'on') {
    const list = await devices();
    assert.deepEqual(list.map((d) => d.platform), ['webpush']);
    await toggle.click();
    await waitFor(async () => !(await toggle.isChecked()), { what: 'push turned off' });
    assert.deepEqual(await devices(), [], 'turning push off left the device on the server');
  } else {
    t.diagnostic('PushManager.subscribe failed in this browser; the toggle says so');
    assert.ok(await toggle.isDisabled(), 'the toggle stays usable where push is not available');
    assert.deepEqual(await devices(), [], 'a device was registered without a subscription');
  }

  // Where the browser has a push service, the toggle subscribes with the server's key and
  // registers the subscription as a device; off, it unsubscribes and deletes the device. A
  // stand-in PushManager plays the push service here.
  const c = cleo.page;
  await cleo.context.grantPermissions(['notifications']);
  await c.getByRole('link', { name: 'Your profile' }).click();
  const endpoint = await c.evaluate(async () => {
    const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
    const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const json = {
      endpoint: `https://push.example.com/send/${crypto.randomUUID()}`,
      expirationTime: null,
      keys: { p256dh: b64(await crypto.subtle.exportKey('raw', pair.publicKey)), auth: b64(crypto.getRandomValues(new Uint8Array(16))) },
    };
    let current = null;
    window.subscribeCalls = [];
    PushManager.prototype.subscribe = async function subscribe(opts) {
      window.subscribeCalls.push({ userVisibleOnly: opts.userVisibleOnly, keyBytes: opts.applicationServerKey.byteLength });
      current = { endpoint: json.endpoint, toJSON: () => json, unsubscribe: async () => { current = null; return true; } };
      return current;
    };
    PushManager.prototype.getSubscription = async function getSubscription() { return current; };
    return json.endpoint;
  });
  const ctoggle = c.getByRole('switch', { name: 'Notifications on this device' });
  const cdevices = async () => (await api('GET', '/api/v1/devices', { token: await cleo.token() })).devices;
  const posted = c.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/devices' && r.request().method() === 'POST');
  await ctoggle.click();
  assert.equal((await posted).status(), 201);
  await waitFor(() => ctoggle.isChecked(), { what: 'push on for Cleo' });
  assert.deepEqual(await c.evaluate(() => window.subscribeCalls), [{ userVisibleOnly: true, keyBytes: 65 }], 'not subscribed with the server\'s P-256 key');
  assert.deepEqual((await cdevices()).map((d) => d.platform), ['webpush']);
  assert.equal(JSON.parse((await posted).request().postData()).subscription.endpoint, endpoint);
  await c.getByText('New messages reach this browser even when Plop is closed.').waitFor();
  await ctoggle.click();
  await waitFor(async () => !(await ctoggle.isChecked()), { what: 'push off for Cleo' });
  await waitFor(async () => (await cdevices()).length === 0, { what: 'Cleo\'s device deleted' });

  // A push becomes one notification per room, replaced as messages arrive, with their count.
  await worker.evaluate(async () => (await self.registration.getNotifications()).forEach((n) => n.close()));
  // A push service may deliver them out of order: the newest of a room (by seq) stays.
  const push = (title, body, roomId, count, seq) => ({ title, body, room_id: roomId, count, tag: `room:${roomId}`, data: { room_id: roomId, seq: String(seq), count: String(count) } });
  await pushTo(ana, [
    push('Ben Okafor', 'Are you there?', room, 1, 5),
    push('Ben Okafor', 'Hello?', room, 3, 7),
    push('Saturday picnic', 'Cleo: On my way', 'other', 1, 40),
    push('Ben Okafor', 'Anyone?', room, 2, 6),
  ]);
  // Let the worker finish with the four before reading what is shown.
  await worker.evaluate(async () => { await new Promise((r) => setTimeout(r, 300)); await showing; });
  const notifications = () => worker.evaluate(async () => (await self.registration.getNotifications())
    .map((n) => ({ title: n.title, body: n.body, tag: n.tag, room: n.data.room_id }))
    .sort((x, y) => x.title.localeCompare(y.title)));
  const want = [
    { title: 'Ben Okafor', body: '3 new messages\nHello?', tag: `room:${room}`, room },
    { title: 'Saturday picnic', body: 'Cleo: On my way', tag: 'room:other', room: 'other' },
  ];
  let shown;
  try {
    await waitFor(async () => JSON.stringify(shown = await notifications()) === JSON.stringify(want), { what: 'one notification per room' });
  } catch {
    assert.deepEqual(shown, want);
  }
  // A click on a notification brings the app to its room.
  await worker.evaluate(async () => (await self.registration.getNotifications()).forEach((n) => n.close()));
  await worker.evaluate((id) => self.openRoom(id).then(() => true), room);
  await a.waitForURL(`**/t/${room}`);
  await a.getByRole('textbox', { name: 'Message' }).waitFor();
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
