// The account page. For everyone logged in, "Your account": change the
// password (current, new, repeated) and the API tokens (list, create: the
// token is shown once, with a copy button; revoke). For admins also "Users":
// every user with their role (changed in place), sessions and tokens (a
// user's tokens listed to revoke), a new password set for them, removal
// (confirmed), and a form to add one. A viewer's page has no Users section
// at all. The server checks all of it (403 for a viewer); its {"error"} is
// shown beside the form or table that caused it.
import { isAdmin, showMe, whoAmI } from './account.js';
import { LoggedOut, getJson, send } from './api.js';
import { byId } from './dom.js';

/** @typedef {import('./account.js').Me} Me */
/** @typedef {{ id: string, name: string, created: string, lastUsed: string | null }} Token */
/** @typedef {{ name: string, role: 'admin' | 'viewer', created: string, sessions: number, tokens: number }} User */

/** @type {Me} */
let me;

const message = (/** @type {unknown} */ err) => (err instanceof Error ? err.message : String(err));

/** Shows `text` in a form's error line (empty hides it). */
function say(/** @type {Element | null} */ el, /** @type {string} */ text) {
  if (!(el instanceof HTMLElement)) return;
  el.textContent = text;
  el.hidden = text === '';
}

/** A form's own error line (its `.form-error`). */
const errorOf = (/** @type {Element} */ form) => form.querySelector('.form-error');

function when(/** @type {string | null | undefined} */ iso) {
  if (!iso) return 'never';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

function timeCell(/** @type {string | null | undefined} */ iso) {
  const td = document.createElement('td');
  const time = Object.assign(document.createElement('time'), { textContent: when(iso) });
  if (iso) time.dateTime = iso;
  td.append(time);
  return td;
}

function cell(/** @type {string | Node} */ content, /** @type {string} */ className = '') {
  const td = document.createElement('td');
  if (className) td.className = className;
  td.append(content);
  return td;
}

function button(/** @type {string} */ text, /** @type {string} */ className, /** @type {() => void} */ onClick) {
  const b = Object.assign(document.createElement('button'), { type: 'button', className, textContent: text });
  b.addEventListener('click', onClick);
  return b;
}

const input = (/** @type {HTMLFormElement} */ form, /** @type {string} */ name) => /** @type {HTMLInputElement} */ (form.elements.namedItem(name));

/** Runs a form's request with its submit button disabled; the server's refusal goes to the form's error line. */
async function busy(/** @type {HTMLFormElement} */ form, /** @type {() => Promise<void>} */ work) {
  const submit = form.querySelector('button[type="submit"]');
  if (submit instanceof HTMLButtonElement) submit.disabled = true;
  say(errorOf(form), '');
  try {
    await work();
  } catch (err) {
    if (!(err instanceof LoggedOut)) say(errorOf(form), message(err));
  } finally {
    if (submit instanceof HTMLButtonElement) submit.disabled = false;
  }
}

// ---- dialogs ---------------------------------------------------------------

/**
 * Asks before something that cannot be undone; `action` runs on OK, the
 * dialog stays open with the server's message if it fails.
 * @param {{ title: string, text: string, ok: string, action: () => Promise<void> }} what
 */
function confirmThen({ title, text, ok, action }) {
  const dialog = byId('confirm-dialog', HTMLDialogElement);
  byId('confirm-title').textContent = title;
  const textEl = dialog.querySelector('.dialog-text');
  if (textEl) textEl.textContent = text;
  const okButton = /** @type {HTMLButtonElement} */ (dialog.querySelector('.dialog-ok'));
  okButton.textContent = ok;
  say(errorOf(dialog), '');
  onDialogSubmit(dialog, action);
  dialog.showModal();
}

/** @type {WeakMap<HTMLDialogElement, () => Promise<void>>} */
const dialogActions = new WeakMap();

function onDialogSubmit(/** @type {HTMLDialogElement} */ dialog, /** @type {() => Promise<void>} */ action) {
  dialogActions.set(dialog, action);
}

function wireDialog(/** @type {HTMLDialogElement} */ dialog) {
  const form = /** @type {HTMLFormElement} */ (dialog.querySelector('form'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const action = dialogActions.get(dialog);
    if (!action) return;
    busy(form, async () => {
      await action();
      dialog.close();
    });
  });
  dialog.querySelector('.dialog-cancel')?.addEventListener('click', () => dialog.close());
}

// ---- your account ----------------------------------------------------------

function initAccount() {
  byId('me-name').textContent = me.user;
  byId('me-role').textContent = me.role;
  byId('me-via').textContent = me.via === 'session' ? '' : ` · ${VIA_NOTE[me.via] ?? me.via}`;
  if (me.via === 'open') byId('me-name').parentElement?.replaceChildren('Nobody logs in here: login is off, and everyone who can reach this lookout may change everything.');
  const form = byId('password-form', HTMLFormElement);
  // Password managers file the new password under this name.
  input(form, 'username').value = me.user;
  const elsewhere = byId('password-elsewhere');
  if (me.via !== 'session') {
    // The password is not lookout's to change: the access token's, the proxy's, or there is no login.
    form.remove();
    elsewhere.textContent = PASSWORD_ELSEWHERE[me.via] ?? '';
    elsewhere.hidden = false;
  } else {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      changePassword(form);
    });
  }
  // Only users of the users file have API tokens (not the access token, a proxy's user, or "local").
  if (me.via !== 'session' && me.via !== 'token') {
    byId('tokens-card').remove();
    return;
  }
  const tokenForm = byId('token-form', HTMLFormElement);
  tokenForm.addEventListener('submit', (e) => {
    e.preventDefault();
    createToken(tokenForm);
  });
  byId('copy-token').addEventListener('click', copyToken);
  byId('new-token-done').addEventListener('click', hideNewToken);
  loadTokens();
}

/** @type {Record<string, string>} */
const VIA_NOTE = {
  token: 'let in by an API token',
  'shared-token': 'logged in with the access token',
  proxy: 'logged in through the reverse proxy',
  open: 'login is off',
};

/** @type {Record<string, string>} */
const PASSWORD_ELSEWHERE = {
  'shared-token': 'You logged in with the access token (auth.token in the config), not as a user: there is no password or API token of yours here. Change the token in the config; add users below, or with lookout user add on the server.',
  proxy: 'Your login is the reverse proxy’s: change your password there. API tokens belong to lookout’s own users.',
  token: 'This request came with an API token: log in with your password to change it.',
  open: 'Login is off on this lookout (auth.enabled: false, or no user, token or proxy configured): there is no password or API token to manage.',
};

async function changePassword(/** @type {HTMLFormElement} */ form) {
  const ok = /** @type {HTMLElement} */ (form.querySelector('.form-ok'));
  ok.hidden = true;
  const current = input(form, 'current').value;
  const password = input(form, 'password').value;
  const repeat = input(form, 'repeat').value;
  if (!current || !password) return say(errorOf(form), 'Enter your current password and the new one.');
  if (password !== repeat) {
    say(errorOf(form), 'The two new passwords differ.');
    input(form, 'repeat').select();
    return;
  }
  await busy(form, async () => {
    await send('POST', 'api/me/password', { current, password });
    form.reset();
    input(form, 'username').value = me.user;
    ok.textContent = 'Password changed. Your other sessions have ended.';
    ok.hidden = false;
  });
}

let tokensLoaded = false;

async function loadTokens() {
  const error = byId('tokens-error');
  try {
    /** @type {{ tokens: Token[] }} */
    const body = await getJson('api/me/tokens');
    say(error, '');
    showTokens(byId('tokens'), body.tokens, (t) => send('DELETE', `api/me/tokens/${encodeURIComponent(t.id)}`).then(loadTokens));
    byId('tokens-empty').hidden = body.tokens.length > 0;
    /** @type {HTMLElement} */ (byId('tokens').closest('table')).hidden = body.tokens.length === 0;
    // The users table counts tokens too.
    if (isAdmin() && tokensLoaded) loadUsers();
    tokensLoaded = true;
  } catch (err) {
    if (!(err instanceof LoggedOut)) say(error, message(err));
  }
}

/** Rows of tokens (name, created, last used, Revoke, confirmed first) into a table body. */
function showTokens(/** @type {HTMLElement} */ tbody, /** @type {Token[]} */ tokens, /** @type {(t: Token) => Promise<void>} */ revoke, /** @type {string} */ owner = '') {
  tbody.replaceChildren(...tokens.map((t) => {
    const tr = document.createElement('tr');
    tr.dataset.token = t.id;
    const revokeButton = button('Revoke', 'small danger', () => confirmThen({
      title: `Revoke the token “${t.name}”${owner ? ` of ${owner}` : ''}?`,
      text: 'Whatever uses it is refused from now on. This cannot be undone.',
      ok: 'Revoke',
      action: () => revoke(t),
    }));
    tr.append(cell(t.name, 'token-name'), timeCell(t.created), timeCell(t.lastUsed), cell(revokeButton, 'row-actions'));
    return tr;
  }));
}

async function createToken(/** @type {HTMLFormElement} */ form) {
  const name = input(form, 'name').value.trim();
  if (!name) return say(errorOf(form) ?? byId('tokens-error'), 'Name the token (what will use it).');
  hideNewToken();
  say(byId('tokens-error'), '');
  const submit = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
  submit.disabled = true;
  try {
    /** @type {{ id: string, name: string, created: string, token: string }} */
    const created = await send('POST', 'api/me/tokens', { name });
    form.reset();
    const box = byId('new-token');
    /** @type {HTMLElement} */ (box.querySelector('.new-token-name')).textContent = created.name;
    const value = byId('new-token-value', HTMLInputElement);
    value.value = created.token;
    byId('copy-token').textContent = 'Copy';
    box.hidden = false;
    value.focus();
    // Selected, with its start in view.
    value.setSelectionRange(0, value.value.length, 'backward');
    value.scrollLeft = 0;
    await loadTokens();
  } catch (err) {
    if (!(err instanceof LoggedOut)) say(byId('tokens-error'), message(err));
  } finally {
    submit.disabled = false;
  }
}

async function copyToken() {
  const value = byId('new-token-value', HTMLInputElement);
  const copy = byId('copy-token');
  try {
    // The clipboard API wants a secure context (https or localhost); elsewhere the selection is copied.
    if (navigator.clipboard && window.isSecureContext) await navigator.clipboard.writeText(value.value);
    else {
      value.select();
      if (!document.execCommand('copy')) throw new Error('copy refused');
    }
    copy.textContent = 'Copied ✓';
  } catch {
    value.focus();
    value.select();
    copy.textContent = 'Press Ctrl+C';
  }
}

function hideNewToken() {
  byId('new-token').hidden = true;
  byId('new-token-value', HTMLInputElement).value = '';
}

// ---- users (admins) --------------------------------------------------------

/** The users whose token lists are open. */
const openTokens = new Set();

function initUsers() {
  const form = byId('user-form', HTMLFormElement);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    addUser(form);
  });
  const reset = byId('reset-dialog', HTMLDialogElement);
  wireDialog(reset);
  byId('users-section').hidden = false;
  loadUsers();
}

async function loadUsers() {
  const error = byId('users-error');
  try {
    /** @type {{ users: User[] }} */
    const body = await getJson('api/users');
    say(error, '');
    await showUsers(body.users);
  } catch (err) {
    if (!(err instanceof LoggedOut)) say(error, message(err));
  }
}

async function showUsers(/** @type {User[]} */ users) {
  const tbody = byId('users');
  const rows = [];
  for (const u of [...users].sort((a, b) => a.name.localeCompare(b.name))) {
    rows.push(userRow(u));
    if (openTokens.has(u.name)) rows.push(await tokensRow(u));
  }
  tbody.replaceChildren(...rows);
}

function userRow(/** @type {User} */ u) {
  const tr = document.createElement('tr');
  tr.dataset.user = u.name;
  const self = u.name === me.user;
  const name = document.createElement('span');
  name.append(Object.assign(document.createElement('b'), { textContent: u.name }));
  if (self) name.append(Object.assign(document.createElement('span'), { className: 'hint', textContent: ' (you)' }));

  const role = document.createElement('select');
  role.className = 'role-select';
  role.setAttribute('aria-label', `Role of ${u.name}`);
  for (const r of ['viewer', 'admin']) role.append(new Option(r, r, false, r === u.role));
  role.addEventListener('change', () => changeRole(u, role));

  const tokens = button(`${u.tokens} ${u.tokens === 1 ? 'token' : 'tokens'}`, 'link tokens-toggle', () => {
    if (openTokens.has(u.name)) openTokens.delete(u.name);
    else openTokens.add(u.name);
    loadUsers();
  });
  tokens.disabled = u.tokens === 0;
  tokens.setAttribute('aria-expanded', String(openTokens.has(u.name)));

  const actions = document.createElement('div');
  actions.className = 'row-buttons';
  actions.append(
    button('Reset password', 'small', () => resetPassword(u)),
    button('Remove', 'small danger', () => confirmThen({
      title: `Remove ${u.name}?`,
      text: self
        ? 'That is you: you are logged out at once, and your API tokens end.'
        : 'Their sessions and API tokens end at once, and whatever they are watching stops.',
      ok: 'Remove',
      action: async () => {
        await send('DELETE', `api/users/${encodeURIComponent(u.name)}`);
        openTokens.delete(u.name);
        await loadUsers();
      },
    })),
  );
  tr.append(cell(name), cell(role), cell(String(u.sessions), 'num'), cell(tokens), timeCell(u.created), cell(actions, 'row-actions'));
  return tr;
}

/** The row under a user listing their API tokens, each to revoke. */
async function tokensRow(/** @type {User} */ u) {
  const tr = document.createElement('tr');
  tr.className = 'user-tokens';
  const td = document.createElement('td');
  td.colSpan = 6;
  tr.append(td);
  try {
    /** @type {{ tokens: Token[] }} */
    const body = await getJson(`api/users/${encodeURIComponent(u.name)}/tokens`);
    const table = document.createElement('table');
    table.className = 'table tokens';
    table.innerHTML = '<thead><tr><th>Token</th><th>Created</th><th>Last used</th><th></th></tr></thead>';
    const tbody = document.createElement('tbody');
    showTokens(tbody, body.tokens, (t) => send('DELETE', `api/users/${encodeURIComponent(u.name)}/tokens/${encodeURIComponent(t.id)}`).then(loadUsers), u.name);
    table.append(tbody);
    td.append(body.tokens.length ? table : Object.assign(document.createElement('p'), { className: 'hint', textContent: 'No tokens.' }));
  } catch (err) {
    if (err instanceof LoggedOut) throw err;
    td.append(Object.assign(document.createElement('p'), { className: 'form-error', textContent: message(err) }));
  }
  return tr;
}

async function changeRole(/** @type {User} */ u, /** @type {HTMLSelectElement} */ select) {
  const role = select.value;
  const error = byId('users-error');
  const apply = async () => {
    select.disabled = true;
    try {
      await send('PATCH', `api/users/${encodeURIComponent(u.name)}`, { role });
      say(error, '');
      // Your own role changed: your session ended with it.
      if (u.name === me.user) location.reload();
      else await loadUsers();
    } finally {
      select.disabled = false;
    }
  };
  if (u.name === me.user && role !== 'admin') {
    select.value = u.role;
    confirmThen({
      title: `Make yourself a ${role}?`,
      text: 'You are logged out at once, and can no longer change cameras or users. Another admin can make you admin again.',
      ok: `Make me ${role}`,
      action: apply,
    });
    return;
  }
  try {
    await apply();
  } catch (err) {
    select.value = u.role;
    if (!(err instanceof LoggedOut)) say(error, `${u.name}: ${message(err)}`);
  }
}

function resetPassword(/** @type {User} */ u) {
  const dialog = byId('reset-dialog', HTMLDialogElement);
  const form = /** @type {HTMLFormElement} */ (dialog.querySelector('form'));
  form.reset();
  input(form, 'username').value = u.name;
  /** @type {HTMLElement} */ (dialog.querySelector('.dialog-user')).textContent = u.name;
  say(errorOf(form), '');
  onDialogSubmit(dialog, async () => {
    const password = input(form, 'password').value;
    if (password.length < 8) throw new Error('The password needs at least 8 characters.');
    await send('PATCH', `api/users/${encodeURIComponent(u.name)}`, { password });
    await loadUsers();
  });
  dialog.showModal();
}

async function addUser(/** @type {HTMLFormElement} */ form) {
  const name = input(form, 'name').value.trim();
  const password = input(form, 'password').value;
  const role = /** @type {HTMLSelectElement} */ (form.elements.namedItem('role')).value;
  if (!name || !password) return say(errorOf(form), 'A new user needs a name and a password.');
  await busy(form, async () => {
    await send('POST', 'api/users', { name, role, password });
    form.reset();
    await loadUsers();
  });
}

// ---- start -----------------------------------------------------------------

async function start() {
  me = await whoAmI((err) => say(byId('page-error'), `lookout unreachable: ${message(err)}`));
  say(byId('page-error'), '');
  showMe(me);
  wireDialog(byId('confirm-dialog', HTMLDialogElement));
  byId('account').hidden = false;
  initAccount();
  // A viewer's page has no Users section at all (the server would refuse it anyway).
  if (isAdmin()) initUsers();
  else byId('users-section').remove();
}

start().catch((err) => {
  if (!(err instanceof LoggedOut)) say(byId('page-error'), message(err));
});
