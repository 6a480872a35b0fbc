// Who is looking at the page (GET /api/me) and what they may do. The role
// goes on <body data-role> once, before the views start: account.css hides
// every [data-admin] element unless the role is admin (also while it is not
// known yet), and the modules that wire an action that changes something
// (the zone editor: live.js) ask isAdmin() and leave it out for a viewer.
// The server refuses those requests anyway (403); this only keeps a viewer
// from being offered them. The header's user menu (name · role, the account
// page, log out) is filled here too.
import { LoggedOut, api } from './api.js';

/**
 * @typedef {object} Me
 * @property {string} user
 * @property {'admin' | 'viewer'} role
 * @property {'session' | 'token' | 'shared-token' | 'proxy' | 'open'} via how this request was let in ('open': login is off, everyone is admin)
 * @property {boolean} auth whether login is on
 */

/** @type {Me | undefined} */
let me;

/** Whether the page may offer what changes something (known after whoAmI). */
export function isAdmin() {
  return me?.role === 'admin';
}

/**
 * GET /api/me, asked until lookout answers (it may be starting, or the
 * network down; `onWait` is told each failure). A 401 throws LoggedOut, on
 * the way to the login page.
 * @param {(err: unknown) => void} [onWait]
 * @returns {Promise<Me>}
 */
export async function whoAmI(onWait) {
  for (let delay = 1_000; ; delay = Math.min(delay * 2, 15_000)) {
    try {
      const res = await api('api/me');
      // A lookout from before users (no /api/me): no login, everyone may do everything.
      if (res.status === 404) return (me = { user: 'local', role: 'admin', via: 'open', auth: false });
      const body = await res.json();
      if (!res.ok) throw new Error(body?.error ?? `HTTP ${res.status}`);
      me = /** @type {Me} */ (body);
      return me;
    } catch (err) {
      if (err instanceof LoggedOut) throw err;
      onWait?.(err);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Marks the page with the role (account.css shows [data-admin] to admins only) and fills the user menu. */
export function showMe(/** @type {Me} */ who) {
  document.body.dataset.role = who.role;
  document.body.dataset.via = who.via;
  const menu = document.getElementById('user-menu');
  if (!menu) return;
  menu.replaceChildren();
  if (who.via === 'open') {
    // Login is off: nobody to name and nothing to log out of.
    menu.append(Object.assign(document.createElement('span'), {
      className: 'user-local hint',
      textContent: 'no login (local)',
      title: 'Login is off on this lookout (auth.enabled: false, or no user, token or proxy configured): everyone who can reach it may change everything.',
    }));
    menu.hidden = false;
    return;
  }
  // A button with who is logged in; its menu: the account page and logging out.
  const button = Object.assign(document.createElement('button'), { type: 'button', className: 'user-button', title: VIA[who.via] ?? '' });
  button.setAttribute('aria-haspopup', 'menu');
  button.setAttribute('aria-expanded', 'false');
  button.append(
    Object.assign(document.createElement('b'), { className: 'user-name', textContent: who.user }),
    ' · ',
    Object.assign(document.createElement('span'), { className: 'user-role', textContent: who.role }),
    Object.assign(document.createElement('span'), { className: 'user-caret', textContent: '▾', ariaHidden: 'true' }),
  );
  const popup = Object.assign(document.createElement('div'), { className: 'user-popup', hidden: true });
  popup.setAttribute('role', 'menu');
  const head = Object.assign(document.createElement('div'), { className: 'user-popup-head' });
  head.append(Object.assign(document.createElement('b'), { textContent: who.user }), Object.assign(document.createElement('small'), { textContent: `${who.role} · ${VIA[who.via]?.toLowerCase() ?? who.via}` }));
  const account = Object.assign(document.createElement('a'), {
    className: 'user-account',
    href: 'users.html',
    textContent: who.role === 'admin' ? 'Account & users' : 'Account',
  });
  account.setAttribute('role', 'menuitem');
  if (location.pathname.endsWith('/users.html')) account.setAttribute('aria-current', 'page');
  const out = Object.assign(document.createElement('button'), { type: 'button', className: 'user-logout', textContent: 'Log out' });
  out.setAttribute('role', 'menuitem');
  out.addEventListener('click', () => logOut(out));
  popup.append(head, account, out);
  const open = (/** @type {boolean} */ on) => {
    popup.hidden = !on;
    button.setAttribute('aria-expanded', String(on));
  };
  button.addEventListener('click', (e) => {
    e.stopPropagation();
    open(popup.hidden);
    if (!popup.hidden) account.focus();
  });
  popup.addEventListener('click', (e) => e.stopPropagation());
  document.addEventListener('click', () => open(false));
  menu.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || popup.hidden) return;
    open(false);
    button.focus();
  });
  menu.append(button, popup);
  menu.hidden = false;
}

/** @type {Record<string, string>} */
const VIA = {
  session: 'Logged in with a password',
  token: 'Let in by an API token',
  'shared-token': 'Logged in with the access token (auth.token)',
  proxy: 'Logged in through the reverse proxy',
};

/** POST logout (the session ends, its live video with it), then the login page, whatever the answer. */
async function logOut(/** @type {HTMLButtonElement} */ button) {
  button.disabled = true;
  await fetch('logout', { method: 'POST', headers: { accept: 'application/json' }, credentials: 'same-origin' }).catch(() => undefined);
  location.href = 'login.html';
}
