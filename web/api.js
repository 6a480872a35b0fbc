// lookout's REST API as the page uses it. A 401 means a token is set and this
// browser has no session (or it expired): the page goes to the login form.

export class LoggedOut extends Error {
  constructor() {
    super('not logged in');
    this.name = 'LoggedOut';
  }
}

/** fetch() relative to the page; on 401 it sends the browser to the login page and throws LoggedOut. */
export async function api(/** @type {string} */ path, /** @type {RequestInit} */ init = {}) {
  const res = await fetch(path, init);
  if (res.status === 401) {
    location.href = 'login';
    throw new LoggedOut();
  }
  return res;
}

/**
 * The JSON body of a GET; an error answer throws with the server's message.
 * @template T
 * @param {string} path
 * @returns {Promise<T>}
 */
export async function getJson(path) {
  const res = await api(path);
  const body = await res.json();
  if (!res.ok) throw new Error(body?.error ?? `HTTP ${res.status}`);
  return body;
}

/** @typedef {{ id: string }} CameraSummary */

/** The ids of the cameras lookout runs now. */
export async function cameraIds() {
  /** @type {{ cameras: CameraSummary[] }} */
  const body = await getJson('api/cameras');
  return body.cameras.map((c) => c.id);
}
