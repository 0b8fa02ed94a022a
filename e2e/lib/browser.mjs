// Helpers for driving the web app in Chromium: launching Debian's browser, a user per
// browser context, console error collection, and a network cut of one user.
import { chromium } from 'playwright-core';
import { mkdir } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { env, codeFor, uniqueEmail, waitFor } from './plop.mjs';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** launch starts the system Chromium; playwright never downloads a browser here. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.PLOP_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/**
 * User is one person with their own browser context (cookies, localStorage, network). Every
 * console error and uncaught exception of their pages is recorded, except those caused by a
 * deliberate network cut while it lasts.
 */
export class User {
  constructor(browser, name, viewport) {
    this.browser = browser;
    this.name = name;
    this.viewport = viewport;
    this.email = uniqueEmail(name);
    this.password = 'correct horse battery staple';
    this.errors = [];
    this.offline = false;
    this.sockets = new Set(); // routed WebSockets, closed by cut()
    this.allowed = []; // console errors a test expects: { re, until }
  }

  async open() {
    this.context = await this.browser.newContext({
      viewport: this.viewport,
      baseURL: env().url,
      locale: 'en-GB',
      timezoneId: 'UTC',
      isMobile: this.viewport.width < 500,
      hasTouch: this.viewport.width < 500,
    });
    // Every WebSocket of the app goes through this route, so that cut() can drop it and
    // refuse new ones, as a lost network would.
    await this.context.routeWebSocket(/\/ws$/, (ws) => {
      if (this.offline) {
        ws.close({ code: 1001, reason: 'network cut' });
        return;
      }
      const server = ws.connectToServer();
      const pair = { ws, server };
      this.sockets.add(pair);
      ws.onClose(() => this.sockets.delete(pair));
      server.onClose(() => this.sockets.delete(pair));
    });
    this.page = await this.newPage();
    return this;
  }

  /** newPage opens another tab of this user, watched for errors like the first. */
  async newPage() {
    const page = await this.context.newPage();
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      if (this.offline || this.expected(text)) return;
      this.errors.push(`console: ${text}`);
    });
    page.on('pageerror', (err) => this.errors.push(`exception: ${err.message}`));
    return page;
  }

  /** allow lets console errors matching re pass for the next ms milliseconds. */
  allow(re, ms = 10000) {
    this.allowed.push({ re, until: Date.now() + ms });
  }

  // expected tells console errors that the browser prints about failures the app handles:
  // network errors right after a cut (a reconnect races the network coming back) and any
  // that a test allowed.
  expected(text) {
    return this.allowed.some(({ re, until }) => until > Date.now() && re.test(text));
  }

  /** signUp creates the account through the sign-up and code screens. */
  async signUp({ resend = false } = {}) {
    const p = this.page;
    await p.goto('/');
    await p.getByRole('heading', { name: 'Log in to Plop' }).waitFor();
    await p.getByRole('link', { name: 'Create an account' }).click();
    await p.getByLabel('Your name').fill(this.name);
    await p.getByLabel('E-mail address').fill(this.email);
    await p.getByLabel('Password', { exact: true }).fill(this.password);
    await p.getByLabel('Repeat the password').fill(this.password);
    await p.getByRole('button', { name: 'Sign up' }).click();
    await p.getByRole('heading', { name: 'Check your e-mail' }).waitFor();
    let code = await codeFor(this.email);
    if (resend) {
      await p.getByRole('button', { name: 'Resend code' }).click();
      await p.getByRole('status').filter({ hasText: 'We sent a new code' }).waitFor();
      code = await codeFor(this.email, { notBefore: 1 });
    }
    await p.getByLabel('Code').fill(code);
    await p.getByRole('button', { name: 'Verify' }).click();
    await p.getByRole('heading', { name: 'Chats' }).waitFor();
    this.id = await p.evaluate(() => JSON.parse(localStorage.getItem('plop.session')).user.id);
  }

  /** token returns the app's current access token, for setting up data over REST. */
  token() {
    return this.page.evaluate(() => JSON.parse(localStorage.getItem('plop.session')).access_token);
  }

  /** cut drops the network: no HTTP, the WebSocket closed and new ones refused. */
  async cut() {
    this.offline = true;
    await this.context.setOffline(true);
    for (const { ws, server } of [...this.sockets]) {
      await server.close({ code: 1001, reason: 'network cut' }).catch(() => {});
      await ws.close({ code: 1001, reason: 'network cut' }).catch(() => {});
    }
    this.sockets.clear();
  }

  /** restore brings the network back. */
  async restore() {
    this.allow(/net::ERR_|WebSocket connection to/, 5000);
    this.offline = false;
    await this.context.setOffline(false);
  }

  /** shot saves a screenshot when PLOP_SCREENSHOTS names a folder. */
  async shot(name) {
    const dir = process.env.PLOP_SCREENSHOTS;
    if (!dir) return;
    await mkdir(dir, { recursive: true });
    // Let transitions and the typing dots settle into a still picture.
    await this.page.waitForTimeout(250);
    await this.page.screenshot({ path: join(dir, `${name}.png`) });
  }

  /** screenshot saves the user's screen to path. */
  async screenshot(path) {
    await mkdir(dirname(path), { recursive: true });
    await this.page.screenshot({ path });
  }

  async close() {
    if (this.context) await this.context.close();
  }
}

/** bubbles counts the message bubbles on screen whose text contains text. */
export function bubbles(page, text) {
  return page.locator('.msg .bubble', { hasText: text }).count();
}

/** waitBubbles waits until exactly n bubbles contain text. */
export async function waitBubbles(page, text, n = 1, who = '') {
  let last = -1;
  try {
    await waitFor(async () => (last = await bubbles(page, text)) === n, { timeoutMs: 15000 });
  } catch {
    throw new Error(`want ${n} bubble(s) with "${text}"${who ? ` on ${who}'s screen` : ''}, have ${last}`);
  }
}

/** message returns the locator of the message row whose bubble has text. */
export function message(page, text) {
  return page.locator('.msg', { has: page.locator('.bubble', { hasText: text }) });
}
