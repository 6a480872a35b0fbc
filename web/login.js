// The login page: a user name and password (or an empty name and the access
// token) POSTed as JSON to `login`, relative to the page (lookout may sit
// under a reverse proxy's path). 200: the session cookie is set, on to the
// cameras. 401: the server's message. 429: too many failures, the button
// waits out Retry-After with a countdown. This page loads nothing that needs
// a session: only style.css and this file are open before logging in.

const form = /** @type {HTMLFormElement} */ (document.getElementById('login-form'));
const error = /** @type {HTMLElement} */ (document.getElementById('login-error'));
const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
const LABEL = button.textContent ?? 'Log in';
/** @type {ReturnType<typeof setInterval> | undefined} */
let countdown;

function field(/** @type {string} */ name) {
  return /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
}

function say(/** @type {string} */ text) {
  error.textContent = text;
  error.hidden = text === '';
}

/** The button stays disabled for `seconds`, counting down; the message stays. */
function wait(/** @type {number} */ seconds) {
  clearInterval(countdown);
  const until = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(countdown);
      button.disabled = false;
      button.textContent = LABEL;
      return;
    }
    button.disabled = true;
    button.textContent = `Try again in ${left} s`;
  };
  tick();
  countdown = setInterval(tick, 250);
}

/** Seconds to wait from a 429: the Retry-After header (seconds or a date), else the body's retryAfterS, else a minute. */
function retryAfter(/** @type {Response} */ res, /** @type {{ retryAfterS?: unknown } | undefined} */ body) {
  const header = res.headers.get('retry-after');
  if (header !== null && /^\d+$/.test(header.trim())) return Number(header);
  if (header !== null && !Number.isNaN(Date.parse(header))) return Math.max(1, (Date.parse(header) - Date.now()) / 1000);
  return typeof body?.retryAfterS === 'number' ? body.retryAfterS : 60;
}

// Without this script the form posts itself and comes back as login.html?error=401[&retry=N].
const back = new URLSearchParams(location.search);
if (back.get('error') === '401') say('wrong user name or password');
if (back.get('error') === '429') say('too many failed logins');
if (back.has('retry')) wait(Number(back.get('retry')) || 60);
if (back.has('error')) history.replaceState(null, '', location.pathname);

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (button.disabled) return;
  const password = field('password');
  if (password.value === '') {
    say(field('user').value.trim() === '' ? 'Enter your user name and password, or the access token.' : 'Enter your password.');
    password.focus();
    return;
  }
  say('');
  button.disabled = true;
  try {
    const res = await fetch('login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ user: field('user').value.trim(), password: password.value }),
      credentials: 'same-origin',
    });
    /** @type {{ error?: string, retryAfterS?: number } | undefined} */
    const body = await res.json().catch(() => undefined);
    if (res.ok) {
      location.href = './';
      return;
    }
    button.disabled = false;
    say(body?.error ?? (res.status === 401 ? 'wrong user name or password' : `lookout answered HTTP ${res.status}`));
    // 429, or the failure that made this address or user wait: the button waits too.
    if (res.status === 429 || res.headers.has('retry-after')) wait(retryAfter(res, body));
    password.select();
  } catch (err) {
    button.disabled = false;
    say(`lookout unreachable: ${err instanceof Error ? err.message : String(err)}`);
  }
});
