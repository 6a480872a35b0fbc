// The zone editor's side panel (#editor in index.html): the tools to draw a
// new zone, line or mask, what to do while drawing, the form for a shape's
// name and settings, the server's answer, and the camera's shapes listed to
// pick or delete. It only shows things and reports clicks; editor.js keeps
// the state and talks to the server.
import { byId } from './dom.js';
import { shapeColour } from './shapes-paint.js';
import { lineCounts, zoneText } from './shapes.js';

/** @typedef {'zone' | 'line' | 'mask'} Kind */
/** @typedef {import('./protocol.js').Shapes} Shapes */
/** @typedef {import('./protocol.js').Analytics} Analytics */
/** @typedef {import('./protocol.js').Zone} Zone */
/** @typedef {import('./protocol.js').CountLine} CountLine */

/**
 * @typedef {object} PanelActions
 * @property {(kind: Kind) => void} tool start drawing a new shape of this kind
 * @property {() => void} finish close the polygon being drawn
 * @property {() => void} undo take the last point back
 * @property {() => void} cancel
 * @property {() => void} save
 * @property {() => void} swap a line's direction
 * @property {(kind: Kind, index: number) => void} select
 * @property {(kind: Kind, index: number) => void} remove
 * @property {() => void} done close the editor
 */

/**
 * @typedef {object} PanelView
 * @property {'idle' | 'drawing' | 'form'} mode
 * @property {Kind} kind
 * @property {number | null} index the shape changed (null: a new one)
 * @property {number} points how many points the shape being drawn has
 * @property {boolean} busy a save is on its way
 * @property {Shapes} shapes
 * @property {import('./protocol.js').Analytics} analytics
 */

const NOUN = { zone: 'zone', line: 'line', mask: 'mask' };
const HINTS = {
  idle: 'Pick what to draw, then click on the picture. Click a shape (or its name below) to move its points or change it.',
  zone: 'Click the corners of the zone on the picture. Click the first point or press Enter to close it · Backspace takes a point back · Esc cancels.',
  mask: 'Click the corners of the area to ignore. Click the first point or press Enter to close it · Esc cancels.',
  line: 'Click where the line starts, then where it ends. Objects crossing it toward the arrow count as “in”.',
  form: 'Drag the points on the picture to adjust the shape.',
};

const LIST_KEY = { zone: /** @type {const} */ ('zones'), line: /** @type {const} */ ('lines'), mask: /** @type {const} */ ('masks') };

export class EditorPanel {
  #listKey = '';

  /** @param {PanelActions} actions */
  constructor(actions) {
    this.root = byId('editor');
    this.form = /** @type {HTMLFormElement} */ (this.#part('.editor-form'));
    this.root.addEventListener('click', (e) => {
      const el = e.target instanceof Element ? e.target.closest('button') : null;
      if (!el) return;
      const row = el.closest('li[data-index]');
      const kind = /** @type {Kind} */ (row?.closest('section')?.getAttribute('data-kind') ?? el.getAttribute('data-tool') ?? 'zone');
      const index = Number(row?.getAttribute('data-index'));
      if (el.dataset.tool) actions.tool(kind);
      else if (el.classList.contains('shape-delete')) actions.remove(kind, index);
      else if (el.classList.contains('shape-pick')) actions.select(kind, index);
      else if (el.classList.contains('editor-finish')) actions.finish();
      else if (el.classList.contains('editor-undo')) actions.undo();
      else if (el.classList.contains('editor-cancel')) actions.cancel();
      else if (el.classList.contains('editor-swap')) actions.swap();
      else if (el.classList.contains('editor-delete')) actions.remove(/** @type {Kind} */ (this.form.dataset.kind), Number(this.form.dataset.index));
      else if (el.classList.contains('editor-done')) actions.done();
    });
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      actions.save();
    });
  }

  #part(/** @type {string} */ selector) {
    const el = this.root.querySelector(selector);
    if (!(el instanceof HTMLElement)) throw new Error(`the editor has no ${selector}`);
    return el;
  }

  show(/** @type {string} */ camera) {
    this.#part('.editor-camera').textContent = camera;
    this.#listKey = '';
    this.error('');
    this.saved('');
    this.root.hidden = false;
  }

  hide() {
    this.root.hidden = true;
  }

  /** The server's refusal (or any failure to save), or '' to clear it. */
  error(/** @type {string} */ text) {
    const el = this.#part('.editor-error');
    el.textContent = text;
    el.hidden = text === '';
    if (text) this.saved('');
  }

  get errorText() {
    return this.#part('.editor-error').textContent ?? '';
  }

  saved(/** @type {string} */ text) {
    const el = this.#part('.editor-saved');
    el.textContent = text;
    el.hidden = text === '';
  }

  /** Fills the form for a shape: an existing one's fields, or a new one's defaults with this name. */
  openForm(/** @type {Kind} */ kind, /** @type {Zone | CountLine | undefined} */ shape, /** @type {string} */ name, /** @type {number | null} */ index) {
    const f = this.form;
    f.dataset.kind = kind;
    f.dataset.index = String(index ?? '');
    const zone = shape && 'inertia' in shape ? shape : undefined;
    const set = (/** @type {string} */ field, /** @type {string} */ value) => {
      const input = f.elements.namedItem(field);
      if (input instanceof HTMLInputElement || input instanceof HTMLSelectElement) input.value = value;
    };
    set('name', shape?.name ?? name);
    set('labels', (shape?.labels ?? []).join(', '));
    set('loiterSeconds', zone?.loiterSeconds == null ? '' : String(zone.loiterSeconds));
    set('inertia', String(zone?.inertia ?? 3));
    set('anchor', shape?.anchor ?? 'bottom-center');
    for (const el of f.querySelectorAll('[data-for]')) {
      if (el instanceof HTMLElement) el.hidden = !(el.dataset.for ?? '').split(' ').includes(kind);
    }
    const what = kind === 'mask' ? `mask ${index === null ? '' : index + 1}`.trim() : shape?.name ?? `new ${NOUN[kind]}`;
    this.#part('.editor-form-title').textContent = index === null ? `New ${NOUN[kind]}` : `Change ${kind === 'mask' ? what : `${NOUN[kind]} “${what}”`}`;
    this.#part('.editor-save').textContent = `Save ${NOUN[kind]}`;
    this.#part('.editor-delete').hidden = index === null;
    f.hidden = false;
    if (kind !== 'mask') {
      const input = f.elements.namedItem('name');
      if (input instanceof HTMLInputElement) {
        input.focus();
        input.select();
      }
    }
  }

  /** The form's fields as the API takes them; blank ones left out (the server's defaults apply). */
  fields(/** @type {Kind} */ kind) {
    const data = new FormData(this.form);
    const text = (/** @type {string} */ k) => String(data.get(k) ?? '').trim();
    /** @type {Record<string, unknown>} */
    const out = { name: text('name') };
    out.labels = text('labels').split(',').map((l) => l.trim()).filter(Boolean);
    out.anchor = text('anchor') || 'bottom-center';
    if (kind === 'zone') {
      out.loiterSeconds = text('loiterSeconds') === '' ? null : Number(text('loiterSeconds'));
      if (text('inertia') !== '') out.inertia = Number(text('inertia'));
    }
    return out;
  }

  render(/** @type {PanelView} */ v) {
    for (const b of this.root.querySelectorAll('[data-tool]')) {
      const on = v.mode === 'drawing' && b.getAttribute('data-tool') === v.kind;
      b.setAttribute('aria-pressed', String(on));
      b.toggleAttribute('disabled', v.busy);
    }
    this.#part('.editor-hint').textContent = v.mode === 'drawing' ? HINTS[v.kind] : v.mode === 'form' ? HINTS.form : HINTS.idle;
    const drawing = this.#part('.editor-drawing');
    drawing.hidden = v.mode !== 'drawing';
    const finish = this.#part('.editor-finish');
    finish.hidden = v.kind === 'line';
    finish.toggleAttribute('disabled', v.points < 3);
    this.#part('.editor-undo').toggleAttribute('disabled', v.points === 0);
    if (v.mode !== 'form') this.form.hidden = true;
    for (const b of this.form.querySelectorAll('button')) b.toggleAttribute('disabled', v.busy);
    if (v.busy) this.#part('.editor-save').textContent = 'Saving…';
    else this.#part('.editor-save').textContent = `Save ${NOUN[/** @type {Kind} */ (this.form.dataset.kind ?? 'zone')]}`;
    this.#list(v);
  }

  /** The camera's shapes, rebuilt only when they, what is in them, or the selection change. */
  #list(/** @type {PanelView} */ v) {
    const selected = v.mode === 'form' && v.index !== null ? `${v.kind}:${v.index}` : '';
    const key = JSON.stringify([v.shapes, v.analytics, selected, v.busy]);
    if (key === this.#listKey) return;
    this.#listKey = key;
    for (const kind of /** @type {Kind[]} */ (['zone', 'line', 'mask'])) {
      const section = this.#part(`section[data-kind="${kind}"]`);
      const list = /** @type {(Zone | CountLine | import('./protocol.js').Point[])[]} */ (v.shapes[LIST_KEY[kind]]);
      const rows = list.map((shape, i) => this.#row(kind, shape, i, v, selected === `${kind}:${i}`));
      /** @type {HTMLElement} */ (section.querySelector('ul')).replaceChildren(...rows);
      /** @type {HTMLElement} */ (section.querySelector('.hint')).hidden = rows.length > 0;
    }
  }

  /** @param {Kind} kind @param {Zone | CountLine | import('./protocol.js').Point[]} shape @param {number} i @param {PanelView} v @param {boolean} selected */
  #row(kind, shape, i, v, selected) {
    const li = document.createElement('li');
    li.dataset.index = String(i);
    li.classList.toggle('selected', selected);
    const pick = Object.assign(document.createElement('button'), { type: 'button', className: 'shape-pick' });
    const swatch = Object.assign(document.createElement('span'), { className: 'swatch' });
    swatch.style.background = kind === 'mask' ? 'repeating-linear-gradient(135deg, #3a4450 0 2px, #11161c 2px 4px)' : shapeColour(kind === 'zone' ? i : i + 3);
    let name = `Mask ${i + 1}`;
    let sub = '';
    if (Array.isArray(shape)) sub = `${shape.length} points`;
    else {
      name = shape.name;
      const labels = shape.labels.length ? shape.labels.join(', ') : 'all labels';
      if (kind === 'zone') {
        const now = zoneText('', v.analytics.zones?.[shape.name]).replace(/^ · /, '');
        sub = `${labels} · ${now || 'empty'}`;
      } else {
        const c = lineCounts(v.analytics.lines?.[shape.name]);
        sub = `${labels} · in ${c.in} · out ${c.out}`;
      }
    }
    pick.append(swatch, Object.assign(document.createElement('span'), { className: 'shape-name', textContent: name }), Object.assign(document.createElement('span'), { className: 'shape-sub', textContent: sub }));
    const del = Object.assign(document.createElement('button'), { type: 'button', className: 'shape-delete', textContent: 'Delete' });
    del.setAttribute('aria-label', `Delete ${NOUN[kind]} ${name}`);
    del.disabled = v.busy;
    li.append(pick, del);
    return li;
  }
}
