// @ts-check
/**
 * The view's DOM event plumbing: one delegated listener per event type on the widget's root.
 * Buttons say what they do with `data-action` (and rows carry `data-model-id`); forms with
 * `data-form`; controls with `data-control`. A press of the mouse is checked against the action
 * the button had when it went down, so a button that changed under the press (Cancel turned
 * into Load as the download finished) does nothing rather than the wrong thing. For the same
 * reason a multi-click counts once: its second click would land on the Cancel that the first
 * one's Download turned into (keyboard activation is detail 0). Buttons marked aria-disabled (a
 * command on its way, Unload all with nothing loaded) take no click but keep the focus.
 */

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
  const keydown = () => {
    pressed = { button: null, action: null };
  };
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
