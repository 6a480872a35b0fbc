// Logging in and out of the page in a real headless Chromium, with users
// (issue 18): a viewer logs in through the form and watches, with nothing
// on the page that changes a camera and no Users section; an admin sees the
// zone editor's buttons and the users; logging out lands on the login page
// and the session is gone for the API too; a wrong password says so. The
// users are made over the API with the shared access token, as a script
// would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { RunningLookout } from '../../src/app.js';
import { packageRoot } from '../../src/util/paths.js';
import { launchChromium, skipChromium } from '../helpers/chromium.js';
import { startTestLookout } from '../helpers/lookout.js';
import { BOTTLE_CLIP } from '../helpers/media.js';
import { until } from '../helpers/wait.js';

const SHOTS = path.join(packageRoot, 'test-output');
const TOKEN = 'e2e-shared-access-token-0123456789';
const VIEWER = { name: 'alice', password: 'alice-watches-1', role: 'viewer' };
const ADMIN = { name: 'root', password: 'root-changes-all-1', role: 'admin' };
const tile = (camera: string) => `lookout-camera.tile[data-camera="${camera}"]`;

describe.skipIf(skipChromium)('logging in to the page', () => {
  let lookout: RunningLookout;
  let browser: BrowserContext;

  /** A request with the shared access token, as a script sends it. */
  const asScript = (route: string, init: RequestInit = {}) => fetch(`${lookout.url}${route}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers },
  });

  /** The login form, filled and sent; `page` is on the login page. */
  async function logIn(page: Page, user: { name: string; password: string }): Promise<void> {
    await page.fill('#login-form input[name="user"]', user.name);
    await page.fill('#login-form input[name="password"]', user.password);
    await page.click('#login-form button[type="submit"]');
  }

  /** A fresh page of a browser with no session, sent to the login page by the cameras' page. */
  async function loggedOutPage(): Promise<Page> {
    await browser.clearCookies();
    const page = await browser.newPage();
    await page.goto(lookout.url);
    await page.waitForURL(/\/login\.html$/);
    await page.waitForSelector('#login-form');
    return page;
  }

  const status = (page: Page, route: string, method = 'GET') =>
    page.evaluate(async ([r, m]) => (await fetch(r, { method: m, headers: { 'content-type': 'application/json' }, body: m === 'GET' ? undefined : '{}' })).status, [route, method] as const);

  beforeAll(async () => {
    lookout = await startTestLookout({
      auth: { token: TOKEN },
      detection: { detectFps: 2, liveFps: 10 },
      cameras: [{ id: 'kitchen', url: BOTTLE_CLIP, loop: true }],
    });
    for (const user of [VIEWER, ADMIN]) {
      const made = await asScript('/api/users', { method: 'POST', body: JSON.stringify(user) });
      expect(made.status, await made.clone().text()).toBe(201);
    }
    browser = await launchChromium({ width: 1400, height: 800 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('lets a viewer in through the form to watch, with nothing that changes a camera and no Users section', async () => {
    const page = await loggedOutPage();
    await logIn(page, VIEWER);
    await page.waitForURL(`${lookout.url}/`);
    await page.waitForSelector(`${tile('kitchen')} .frame`);
    expect(await page.textContent('#user-menu .user-button')).toMatch(/alice\s*·\s*viewer/);
    expect(await page.getAttribute('body', 'data-role')).toBe('viewer');
    // The live video plays for a viewer (the WebSocket lets them in).
    await page.waitForSelector(`${tile('kitchen')}[data-video="native"] video`, { timeout: 30_000 });
    await until(async () => (await page.$eval(`${tile('kitchen')} video`, (v) => (v as unknown as { currentTime: number }).currentTime)) > 0.5, 60_000, 200);
    // No zone editor: its button is not on the tile, the panel stays hidden; the tile's video menu stays.
    expect(await page.$$(`${tile('kitchen')} .edit-zones`)).toHaveLength(0);
    expect(await page.isHidden('#editor')).toBe(true);
    expect(await page.isVisible(`${tile('kitchen')} .menu-button`)).toBe(true);
    // The history views are there to read.
    await page.click('#nav a[data-view="events"]');
    expect(await page.isVisible('#view-events')).toBe(true);
    // And the server refuses what the page does not offer.
    expect(await status(page, 'api/cameras/kitchen', 'PATCH')).toBe(403);
    expect(await status(page, 'api/users')).toBe(403);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'auth-viewer-page.png') });

    // The account page: their own password and tokens, no users.
    await page.click('#user-menu .user-button');
    await page.click('#user-menu .user-account');
    await page.waitForURL(/\/users\.html$/);
    await page.waitForSelector('#account:not([hidden])');
    expect(await page.isVisible('#password-form')).toBe(true);
    expect(await page.$$('#users-section')).toHaveLength(0);
    // A token made here is shown once, and lets a script in as this viewer.
    await page.fill('#token-form input[name="name"]', 'e2e-script');
    await page.click('#token-form button[type="submit"]');
    await page.waitForSelector('#new-token:not([hidden])');
    const token = await page.inputValue('#new-token-value');
    expect(token.length).toBeGreaterThan(16);
    await page.waitForSelector('#tokens tr:has-text("e2e-script")');
    const me = await fetch(`${lookout.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(await me.json()).toMatchObject({ user: 'alice', role: 'viewer' });
    await page.screenshot({ path: path.join(SHOTS, 'auth-viewer-account.png'), fullPage: true });
    await page.close();
  }, 180_000);

  it('shows an admin the zone editor and the users, and logging out ends the session', async () => {
    const page = await loggedOutPage();
    await logIn(page, ADMIN);
    await page.waitForURL(`${lookout.url}/`);
    await page.waitForSelector(`${tile('kitchen')} .edit-zones`);
    expect(await page.isVisible(`${tile('kitchen')} .edit-zones`)).toBe(true);
    expect(await page.textContent('#user-menu .user-button')).toMatch(/root\s*·\s*admin/);

    await page.goto(`${lookout.url}/users.html`);
    await page.waitForSelector('#users tr[data-user="alice"]');
    expect(await page.isVisible('#users-section')).toBe(true);
    expect(await page.$eval('#users tr[data-user="alice"] select', (s) => (s as unknown as { value: string }).value)).toBe('viewer');
    // Add a user through the form: the table has them.
    await page.fill('#user-form input[name="name"]', 'carol');
    await page.selectOption('#user-form select[name="role"]', 'viewer');
    await page.fill('#user-form input[name="password"]', 'carol-watches-1');
    await page.click('#user-form button[type="submit"]');
    await page.waitForSelector('#users tr[data-user="carol"]');
    // The server's refusal is shown beside the form: a name taken.
    await page.fill('#user-form input[name="name"]', 'carol');
    await page.fill('#user-form input[name="password"]', 'carol-watches-1');
    await page.click('#user-form button[type="submit"]');
    await page.waitForSelector('#user-form .form-error:not([hidden])');
    await page.screenshot({ path: path.join(SHOTS, 'auth-users-page.png'), fullPage: true });

    // Log out: on the login page, and the API no longer knows this browser.
    await page.click('#user-menu .user-button');
    await page.click('#user-menu .user-logout');
    await page.waitForURL(/\/login\.html$/);
    expect(await status(page, 'api/cameras')).toBe(401);
    expect(await status(page, 'api/me')).toBe(401);
    await page.goto(lookout.url);
    await page.waitForURL(/\/login\.html$/);
    await page.close();
  }, 120_000);

  it('says so when the password is wrong, and stays on the login page', async () => {
    const page = await loggedOutPage();
    await logIn(page, { name: VIEWER.name, password: 'not-the-password' });
    await page.waitForSelector('#login-error:not([hidden])');
    expect(await page.textContent('#login-error')).toMatch(/wrong user name or password/);
    expect(page.url()).toMatch(/\/login\.html$/);
    expect(await status(page, 'api/me')).toBe(401);
    await page.screenshot({ path: path.join(SHOTS, 'auth-login-wrong.png') });
    await page.close();
  }, 60_000);
  it('sends a page that is open to the login page when its user is removed (the WebSocket closes with 4401)', async () => {
    const dora = { name: 'dora', password: 'dora-watches-too-1', role: 'viewer' };
    expect((await asScript('/api/users', { method: 'POST', body: JSON.stringify(dora) })).status).toBe(201);
    const page = await loggedOutPage();
    await logIn(page, dora);
    await page.waitForURL(`${lookout.url}/`);
    await page.waitForSelector(`${tile('kitchen')}[data-video="native"] video`, { timeout: 30_000 });
    expect((await asScript('/api/users/dora', { method: 'DELETE' })).status).toBe(204);
    await page.waitForURL(/\/login\.html$/, { timeout: 5_000 });
    expect(await status(page, 'api/me')).toBe(401);
    await page.close();
  }, 60_000);
});
