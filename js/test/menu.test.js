// The rows' More menus (menu.js, row-actions.js): one primary button per row, the secondary
// actions as menu items, and the keyboard round of the menu button pattern.
import { afterEach, describe, expect, it } from "vitest";
import { menuMove, menuPlace } from "../src/menu.js";
import { button, frame, local, mount, row, traits } from "./helpers.js";

/** @type {(() => void)[]} */
let cleanups = [];
/** @param {Parameters<typeof mount>[0]} [state] */
function view(state) {
  const v = mount(state);
  cleanups.push(v.cleanup);
  return v;
}
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
  document.body.replaceChildren();
});

/** @param {Element} target @param {string} key */
const keydown = (target, key, shift = false) =>
  target.dispatchEvent(
    new KeyboardEvent("keydown", { key, shiftKey: shift, bubbles: true, cancelable: true }),
  );
/** @param {Element} r */
const moreOf = (r) => /** @type {HTMLButtonElement} */ (r.querySelector("button.pw-more"));
/** @param {Element} r */
const menuOf = (r) => /** @type {HTMLElement} */ (r.querySelector('[role="menu"]'));
const focusedText = () => document.activeElement?.textContent;

describe("menuMove and menuPlace", () => {
  it("moves through the items with the arrows, wrapping; Home and End; other keys: null", () => {
    expect(menuMove("ArrowDown", -1, 3)).toBe(0);
    expect(menuMove("ArrowDown", 0, 3)).toBe(1);
    expect(menuMove("ArrowDown", 2, 3)).toBe(0);
    expect(menuMove("ArrowUp", 0, 3)).toBe(2);
    expect(menuMove("ArrowUp", 2, 3)).toBe(1);
    expect(menuMove("Home", 2, 3)).toBe(0);
    expect(menuMove("End", 0, 3)).toBe(2);
    expect(menuMove("a", 0, 3)).toBe(null);
    expect(menuMove("ArrowDown", -1, 0)).toBe(null);
  });

  it("places the menu under its button, right edges aligned, above it near the bottom", () => {
    const view = { width: 1000, height: 800 };
    const b = { left: 900, right: 960, top: 100, bottom: 124 };
    expect(menuPlace(b, { width: 200, height: 120 }, view)).toEqual({ left: 760, top: 126 });
    const low = { left: 900, right: 960, top: 740, bottom: 764 };
    expect(menuPlace(low, { width: 200, height: 120 }, view)).toEqual({ left: 760, top: 618 });
    const leftEdge = { left: 2, right: 50, top: 100, bottom: 124 };
    expect(menuPlace(leftEdge, { width: 200, height: 120 }, view).left).toBe(4);
  });
});

describe("one primary action per row, the rest in a More menu", () => {
  it("puts the main button beside More; Edit, Details, Delete, Remove are menu items", async () => {
    const { host } = view(traits({ models: [local({ downloaded: true, custom: true })] }));
    await frame();
    const r = row(host, "m1");
    const actions = /** @type {HTMLElement} */ (r.querySelector(".pw-actions"));
    const shown = [...actions.children].filter((c) => !(/** @type {HTMLElement} */ (c).hidden));
    expect(shown.map((c) => c.textContent)).toEqual(["Load", "More"]);
    expect(shown[0].classList.contains("pw-primary")).toBe(true);
    const more = moreOf(r);
    expect(more.getAttribute("aria-haspopup")).toBe("menu");
    expect(more.getAttribute("aria-expanded")).toBe("false");
    expect(more.getAttribute("aria-label")).toBe("More actions for Model One");
    const menu = menuOf(r);
    expect(more.getAttribute("aria-controls")).toBe(menu.id);
    expect(menu.hidden).toBe(true);
    const items = [...menu.querySelectorAll('button[role="menuitem"]')];
    expect(items.map((b) => [b.textContent, b.getAttribute("data-action")])).toEqual([
      ["Edit", "edit"],
      ["Details", "details"],
      ["Delete", "delete"],
      ["Remove", "remove"],
    ]);
    expect(items.map((b) => b.getAttribute("aria-label"))).toContain("Delete Model One");
    expect(button(r, "delete").title).toContain("the model stays in the list");
    expect(button(r, "remove").title).toContain("Remove this custom model from the list");
  });

  it("opens on More with the first item focused; arrows move; Escape closes to More", async () => {
    const { host } = view(traits({ models: [local({ downloaded: true, custom: true })] }));
    await frame();
    const r = row(host, "m1");
    const more = moreOf(r);
    more.focus();
    more.click();
    expect(more.getAttribute("aria-expanded")).toBe("true");
    expect(menuOf(r).hidden).toBe(false);
    expect(focusedText()).toBe("Edit");
    keydown(/** @type {Element} */ (document.activeElement), "ArrowDown");
    expect(focusedText()).toBe("Details");
    keydown(/** @type {Element} */ (document.activeElement), "ArrowUp");
    keydown(/** @type {Element} */ (document.activeElement), "ArrowUp");
    expect(focusedText()).toBe("Remove");
    keydown(/** @type {Element} */ (document.activeElement), "Home");
    expect(focusedText()).toBe("Edit");
    keydown(/** @type {Element} */ (document.activeElement), "Escape");
    expect(menuOf(r).hidden).toBe(true);
    expect(more.getAttribute("aria-expanded")).toBe("false");
    expect(document.activeElement).toBe(more);
    keydown(more, "ArrowUp"); // opens on the last item
    expect(focusedText()).toBe("Remove");
    keydown(/** @type {Element} */ (document.activeElement), "Tab");
    expect(menuOf(r).hidden).toBe(true);
  });

  it("closes on a press outside, and when an item is chosen: Delete's question takes the focus", async () => {
    const { host, model } = view(traits({ models: [local({ downloaded: true })] }));
    await frame();
    const r = row(host, "m1");
    moreOf(r).click();
    document.body.dispatchEvent(new MouseEvent("pointerdown", { bubbles: true }));
    expect(menuOf(r).hidden).toBe(true);
    moreOf(r).click();
    button(r, "delete").click();
    expect(menuOf(r).hidden).toBe(true);
    await frame();
    expect(document.activeElement?.getAttribute("data-action")).toBe("keep");
    expect(model.sent).toEqual([]);
    button(r, "keep").click();
    await frame();
    expect(document.activeElement).toBe(button(r, "load")); // the row's main button
  });

  it("keeps a cloud model's More (its only action) and hides More when there is nothing in it", async () => {
    const { host } = view(traits({ models: [local({ cloud: true })] }));
    await frame();
    const r = row(host, "m1");
    expect(r.querySelector(".pw-primary")).toBe(null);
    expect(moreOf(r).hidden).toBe(false);
    expect(button(r, "details").getAttribute("role")).toBe("menuitem");
  });
});
