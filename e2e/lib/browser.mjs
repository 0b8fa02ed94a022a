// Helpers for driving the web app in Chromium: launching Debian's browser, a user per
// browser context, console error collection, and a network cut of one user.
import { chromium } from 'playwright-core';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
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
    this.page = await this.context.newPage();
    this.page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      if (this.offline || this.expected(text)) return;
      this.errors.push(`console: ${text}`);
    });
    this.page.on('pageerror', (err) => this.errors.push(`exception: ${err.message}`));
    return this;
  }

  // expected tells console errors that a browser prints about network failures which the app
  // handles (a reconnect races the network coming back).
  expected(text) {
    return this.allowUntil > Date.now() && /net::ERR_|WebSocket connection to/.test(text);
  }

  /** signUp creates the account through the sign-up and code screens. */
  async signUp() {
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
    const code = await codeFor(this.email);
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
    this.allowUntil = Date.now() + 5000;
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
