// A tile's menu: which video to show, the camera's own stream or lookout's
// annotated JPEG frames, and why the tile switched to JPEG by itself when the
// browser cannot play the stream. It only shows and reports the choice; the
// player decides what to do with it.

/** @typedef {import('./settings.js').VideoPick} VideoPick */

export class TileMenu {
  /**
   * @param {HTMLButtonElement} button
   * @param {HTMLElement} menu
   * @param {(pick: VideoPick) => void} onPick
   */
  constructor(button, menu, onPick) {
    this.button = button;
    this.menu = menu;
    button.addEventListener('click', (e) => {
      // Not a click on the picture (that toggles the large view), nor one that closes the menu again.
      e.stopPropagation();
      this.#open(this.menu.hidden);
    });
    menu.addEventListener('click', (e) => {
      e.stopPropagation();
      const item = e.target instanceof Element ? e.target.closest('[data-video]') : null;
      const pick = item?.getAttribute('data-video');
      if (pick === 'native' || pick === 'jpeg') onPick(pick);
      this.close();
    });
    menu.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.close();
    });
  }

  /** Closes on any click elsewhere while the tile is on the page. */
  connect() {
    document.addEventListener('click', this.close);
  }

  disconnect() {
    document.removeEventListener('click', this.close);
  }

  close = () => this.#open(false);

  #open(/** @type {boolean} */ open) {
    this.menu.hidden = !open;
    this.button.setAttribute('aria-expanded', String(open));
  }

  /** Marks the video shown; `autoReason` says why the tile fell back to JPEG by itself, if it did. */
  show(/** @type {VideoPick} */ choice, /** @type {string | undefined} */ autoReason) {
    for (const item of this.menu.querySelectorAll('[data-video]')) {
      item.setAttribute('aria-checked', String(item.getAttribute('data-video') === choice));
    }
    const auto = this.menu.querySelector('.auto');
    const why = this.menu.querySelector('.why');
    if (why) why.textContent = autoReason ?? '';
    if (auto instanceof HTMLElement) auto.hidden = autoReason === undefined;
  }

  /** The camera's codec as people say it ("H.264", "H.265 (transcoded)"). */
  set codec(/** @type {string} */ text) {
    const codec = this.menu.querySelector('.codec');
    if (codec) codec.textContent = text;
  }
}
