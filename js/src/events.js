// @ts-check
/**
 * The view's DOM event plumbing: one delegated listener per event type on the widget's root.
 * Buttons say what they do with `data-action` (and rows carry `data-model-id`); forms with
 * `data-form`; controls with `data-control`. A press of the mouse is checked against the action
 * the button had when it went down, so a button that changed under the press (Cancel turned
 * into Load as the download finished) does nothing rather than the wrong thing. For the same
 * reason a multi-click counts once: its second click would land on the Cancel that the first
 * one's Download turned into (keyboard activation is detail 0). Keys get the same care: Enter or
 * Space on a button that changed its action less than `keyGuard.ms` ago, or a held key's repeats,
 * do nothing (Enter twice on Download must not cancel). Buttons marked aria-disabled (a command
 * on its way, Unload all with nothing loaded) take no click but keep the focus. Escape closes the
 * confirmation, Edit form or Add form it is pressed in.
 */
import { sinceChanged } from "./dom.js";

/** How long a button that changed its action takes no key press (ms); tests may change it. */
export const keyGuard = { ms: 700 };

/**
 * @typedef {{
 *   row: (id: string, action: string, confirmed: boolean) => void,
 *   header: (action: string) => void,
 *   submit: (form: HTMLFormElement, id: string | null) => void,
 *   control: (name: string) => void,
 * }} Handlers
 */

/** @param {Element} node */
function modelIdOf(node) {
  return node.closest("[data-model-id]")?.getAttribute("data-model-id") ?? null;
}

/**
 * @param {HTMLElement} root @param {Handlers} on
 * @returns {() => void} removes the listeners
 */
export function listen(root, on) {
  /** @type {{ button: Element | null, action: string | null }} */
  let pressed = { button: null, action: null };

  /** @param {EventTarget | null} target */
  const buttonOf = (target) => {
    const b = target instanceof Element ? target.closest("button[data-action]") : null;
    return b && root.contains(b) ? /** @type {HTMLButtonElement} */ (b) : null;
  };
  /** @param {Event} event */
  const mousedown = (event) => {
    const b = buttonOf(event.target);
    pressed = { button: b, action: b?.getAttribute("data-action") ?? null };
  };
  /** @param {Event} event */
  const keydown = (event) => {
    pressed = { button: null, action: null };
    const key = /** @type {KeyboardEvent} */ (event);
    if (key.key === "Escape") {
      const target = key.target instanceof Element ? key.target : null;
      const box = target?.closest(".pw-confirm, form.pw-edit, form.pw-add");
      if (!box || !root.contains(box)) return;
      key.preventDefault();
      const id = modelIdOf(box);
      if (box.classList.contains("pw-add")) on.header("close-add");
      else if (id !== null)
        on.row(id, box.classList.contains("pw-edit") ? "close-edit" : "keep", false);
      return;
    }
    if (submitsOnEnter(key)) {
      // A browser submits a form on Enter in a text field by itself, but not in JupyterLab's
      // output area (seen in Chromium, JupyterLab 4): the widget submits it, once.
      key.preventDefault();
      /** @type {HTMLInputElement} */ (key.target).form?.requestSubmit();
      return;
    }
    guardKey(key);
  };
  /** Enter, unmodified and not composing, in a text field of one of the widget's forms. */
  const submitsOnEnter = (/** @type {KeyboardEvent} */ key) => {
    const t = key.target;
    if (key.key !== "Enter" || key.isComposing || key.repeat) return false;
    if (key.shiftKey || key.ctrlKey || key.altKey || key.metaKey) return false;
    return (
      t instanceof HTMLInputElement &&
      t.form !== null &&
      t.form.hasAttribute("data-form") &&
      root.contains(t.form)
    );
  };
  /** Enter acts on keydown, Space on keyup: both are checked. @param {KeyboardEvent} key */
  const guardKey = (key) => {
    if (key.key !== "Enter" && key.key !== " ") return;
    const b = buttonOf(key.target);
    if (b && (key.repeat || sinceChanged(b) < keyGuard.ms)) key.preventDefault();
  };
  /** @param {Event} event */
  const keyup = (event) => guardKey(/** @type {KeyboardEvent} */ (event));
  /** @param {Event} event */
  const click = (event) => {
    const b = buttonOf(event.target);
    const held = pressed;
    pressed = { button: null, action: null };
    if (!b || b.disabled || b.getAttribute("aria-disabled") === "true") return;
    if (/** @type {MouseEvent} */ (event).detail > 1) return;
    const action = b.getAttribute("data-action") ?? "";
    if (held.button === b && held.action !== action) return;
    const id = modelIdOf(b);
    if (id !== null) on.row(id, action, b.getAttribute("data-confirmed") === "1");
    else on.header(action);
  };
  /** @param {Event} event */
  const submit = (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    event.preventDefault();
    // a save already on its way (Save aria-disabled, keeping the focus) is not sent twice
    if (form.querySelector('button[type="submit"][aria-disabled="true"]')) return;
    on.submit(form, modelIdOf(form));
  };
  /** Checkboxes and selects report on `change`, text fields on every `input`. @param {Event} event */
  const control = (event) => {
    const target = event.target;
    if (!(target instanceof HTMLInputElement || target instanceof HTMLSelectElement)) return;
    const typing = target instanceof HTMLInputElement && target.type === "search";
    const name = target.getAttribute("data-control");
    if (name && typing === (event.type === "input")) on.control(name);
  };

  /** @type {[string, (event: Event) => void][]} */
  const listeners = [
    ["mousedown", mousedown],
    ["keydown", keydown],
    ["keyup", keyup],
    ["click", click],
    ["submit", submit],
    ["change", control],
    ["input", control],
  ];
  for (const [type, listener] of listeners) root.addEventListener(type, listener);
  return () => {
    for (const [type, listener] of listeners) root.removeEventListener(type, listener);
  };
}
