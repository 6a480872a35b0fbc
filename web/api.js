// lookout's REST API as the page uses it. A 401 means login is on and this
// browser has no session (or it ended: expired, logged out, the user removed):
// the page goes to the login form.

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
    location.href = 'login.html';
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

/** An answer that is not 2xx: the server's {"error"} message, and the status. */
export class ApiError extends Error {
  constructor(/** @type {string} */ message, /** @type {number} */ status) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/**
 * A request with a JSON body (or none); answers the JSON answer (undefined
 * for 204), or throws ApiError with the server's message.
 * @param {'POST' | 'PATCH' | 'DELETE'} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function send(method, path, body) {
  /** @type {RequestInit} */
  const init = { method };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const res = await api(path, init);
  const answer = res.status === 204 ? undefined : await res.json().catch(() => undefined);
  if (!res.ok) throw new ApiError(answer?.error ?? `lookout answered HTTP ${res.status}`, res.status);
  return answer;
}

/**
 * A camera as /api/cameras gives it, the parts the page reads.
 * @typedef {object} CameraSummary
 * @property {string} id
 * @property {import('./protocol.js').Shapes & { filters?: Record<string, Record<string, number>> }} [settings]
 * @property {import('./protocol.js').Analytics} [analytics]
 */

/** The cameras lookout runs now. */
export async function cameraList() {
  /** @type {{ cameras: CameraSummary[] }} */
  const body = await getJson('api/cameras');
  return body.cameras;
}

/** The ids of the cameras lookout runs now. */
export async function cameraIds() {
  return (await cameraList()).map((c) => c.id);
}

/** A camera's settings refused (400): the server's reason, naming the camera, the shape and what is wrong. */
export class Refused extends Error {}

/**
 * Changes some of a camera's settings (a list given replaces the camera's
 * whole list); answers the camera as it is now.
 * @returns {Promise<CameraSummary>}
 */
export async function patchCamera(/** @type {string} */ id, /** @type {Record<string, unknown>} */ change) {
  const res = await api(`api/cameras/${encodeURIComponent(id)}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(change),
  });
  const body = await res.json().catch(() => undefined);
  if (res.status === 400) throw new Refused(body?.error ?? 'refused');
  if (!res.ok) throw new Error(body?.error ?? `HTTP ${res.status}`);
  return body;
}
