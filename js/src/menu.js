// @ts-check
/**
 * The rows' "More" menus (the menu button pattern): the More button (aria-haspopup="menu",
 * aria-expanded) opens its row's role="menu" list and focuses its first item; ArrowUp and
 * ArrowDown (Home, End) move through the items; Escape closes it and gives the focus back to
 * More; Tab leaves it (closed); a press outside, or choosing an item, closes it. One menu is open
 * at a time. Shown in the top layer (popover) where the browser has it, placed under its button,
 * so no scrolling list or chunk clips it. What an item does is the view's one click listener's.
 */

/**
 * The item a key moves the focus to, or null for a key the menu does not take.
 * @param {string} key @param {number} index the focused item (-1: none) @param {number} count
 */
export function menuMove(key, index, count) {
  if (count === 0) return null;
  if (key === "ArrowDown") return index < 0 ? 0 : (index + 1) % count;
  if (key === "ArrowUp") return index <= 0 ? count - 1 : index - 1;
  if (key === "Home") return 0;
  if (key === "End") return count - 1;
  return null;
}

/**
 * Where the menu goes: under its button, right edges aligned; above it when it does not fit
 * below and fits better above; always inside the viewport (4 px margin).
 * @param {{ left: number, right: number, top: number, bottom: number }} button
 * @param {{ width: number, height: number }} menu @param {{ width: number, height: number }} view
 */
export function menuPlace(button, menu, view) {
  const gap = 2;
  const below = view.height - button.bottom - gap;
  const above = button.top - gap;
  const top =
    menu.height > below && above > below
      ? Math.max(4, button.top - gap - menu.height)
      : button.bottom + gap;
  const left = Math.min(Math.max(4, button.right - menu.width), view.width - menu.width - 4);
  return { left: Math.max(4, left), top };
}

/** @param {HTMLElement} menu */
const items = (menu) =>
  /** @type {HTMLButtonElement[]} */ ([...menu.querySelectorAll('[role="menuitem"]')]).filter(
    (b) => !b.disabled,
  );

/**
 * @param {HTMLElement} root the widget's root
 * @returns {{ close: (focusButton?: boolean) => void, dispose: () => void }}
 */
export function createMenus(root) {
  /** @type {{ more: HTMLButtonElement, menu: HTMLElement } | null} */
  let open = null;

  const place = () => {
    if (!open?.menu.matches?.(":popover-open")) return;
    const b = open.more.getBoundingClientRect();
    const m = open.menu.getBoundingClientRect();
    const at = menuPlace(b, m, { width: window.innerWidth, height: window.innerHeight });
    open.menu.style.left = `${at.left}px`;
    open.menu.style.top = `${at.top}px`;
  };

  /** @param {boolean} [focusButton] give the focus back to the More button */
  const close = (focusButton = false) => {
    if (!open) return;
    const { more, menu } = open;
    open = null;
    if (focusButton) more.focus();
    more.setAttribute("aria-expanded", "false");
    if (menu.matches?.(":popover-open")) menu.hidePopover();
    menu.hidden = true;
    document.removeEventListener("pointerdown", outside, true);
    document.removeEventListener("scroll", place, true);
    window.removeEventListener("resize", place);
  };

  /** @param {HTMLButtonElement} more @param {"first" | "last"} which */
  const show = (more, which) => {
    close();
    const id = more.getAttribute("aria-controls");
    const menu = id ? /** @type {HTMLElement | null} */ (root.querySelector(`#${id}`)) : null;
    if (!menu) return;
    open = { more, menu };
    menu.hidden = false;
    if (typeof menu.showPopover === "function") {
      try {
        menu.showPopover();
      } catch {
        // not in a document that can show it: it shows in place
      }
    }
    more.setAttribute("aria-expanded", "true");
    place();
    const list = items(menu);
    (which === "first" ? list[0] : list[list.length - 1])?.focus();
    document.addEventListener("pointerdown", outside, true);
    document.addEventListener("scroll", place, true);
    window.addEventListener("resize", place);
  };

  /** @param {Event} event */
  const outside = (event) => {
    const t = event.target;
    if (open && t instanceof Node && !open.menu.contains(t) && !open.more.contains(t)) close();
  };

  /** @param {EventTarget | null} t */
  const moreOf = (t) =>
    t instanceof Element
      ? /** @type {HTMLButtonElement | null} */ (t.closest("button.pw-more"))
      : null;

  /** @param {Event} event */
  const click = (event) => {
    const t = event.target;
    const more = moreOf(t);
    if (more) {
      if (open?.more === more) close();
      else show(more, "first");
      return;
    }
    // choosing an item closes the menu, the focus back on More (the click listener then acts:
    // a confirmation or the Edit form takes the focus from there)
    if (open && t instanceof Element && open.menu.contains(t) && t.closest('[role="menuitem"]'))
      close(true);
  };

  /** @param {Event} event */
  const keydown = (event) => {
    const key = /** @type {KeyboardEvent} */ (event);
    const t = key.target;
    const more = moreOf(t);
    if (more && (key.key === "ArrowDown" || key.key === "ArrowUp")) {
      key.preventDefault();
      key.stopPropagation();
      show(more, key.key === "ArrowDown" ? "first" : "last");
      return;
    }
    if (!open || !(t instanceof Node) || !open.menu.contains(t)) return;
    // the keys the menu takes go no further (JupyterLab's command-mode shortcuts)
    if (key.key === "Escape") {
      key.preventDefault();
      key.stopPropagation();
      close(true);
    } else if (key.key === "Tab") close();
    else {
      const list = items(open.menu);
      const next = menuMove(key.key, list.indexOf(/** @type {any} */ (t)), list.length);
      if (next !== null) {
        key.preventDefault();
        key.stopPropagation();
        list[next].focus();
      }
    }
  };

  /** @param {Event} event */
  const focusout = (event) => {
    const to = /** @type {FocusEvent} */ (event).relatedTarget;
    if (open && to instanceof Node && !open.menu.contains(to) && !open.more.contains(to)) close();
  };

  root.addEventListener("click", click);
  root.addEventListener("keydown", keydown);
  root.addEventListener("focusout", focusout);
  return {
    close,
    dispose() {
      close();
      root.removeEventListener("click", click);
      root.removeEventListener("keydown", keydown);
      root.removeEventListener("focusout", focusout);
    },
  };
}
