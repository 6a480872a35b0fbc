// Finding the page's own elements, typed: a missing one is a broken page, not
// a case to handle, so it throws with the id.

/**
 * The element with this id, checked to be a `type` (HTMLElement by default).
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @param {new () => T} [type]
 * @returns {T}
 */
export function byId(id, type) {
  const el = document.getElementById(id);
  const want = type ?? HTMLElement;
  if (!(el instanceof want)) throw new Error(`the page has no ${want.name} #${id}`);
  return /** @type {T} */ (el);
}
