// Where the focus goes after a draw (focus.js), on plain rows.
import { afterEach, describe, expect, it } from "vitest";
import { createFocus } from "../src/focus.js";
import { createUi } from "../src/ui.js";

/** A row-like object: an element with a main button. @param {string} id */
function fakeRow(id) {
  const el = document.createElement("div");
  el.setAttribute("data-model-id", id);
  const main = document.createElement("button");
  el.append(main);
  const more = document.createElement("button");
  el.append(more);
  return /** @type {any} */ ({
    el,
    buttons: new Map([["main", main]]),
    more,
    confirm: null,
    edit: null,
  });
}

function setup() {
  const root = document.createElement("div");
  const header = document.createElement("div");
  header.className = "pw-header";
  const filter = document.createElement("input");
  const addToggle = document.createElement("button");
  addToggle.hidden = true;
  header.append(filter, addToggle);
  root.append(header);
  document.body.append(root);
  const rows = new Map(["a", "b", "c"].map((id) => [id, fakeRow(id)]));
  for (const r of rows.values()) root.append(r.el);
  let visible = ["a", "b", "c"];
  const ui = createUi();
  const focus = createFocus({
    root,
    rows,
    ui,
    visible: () => visible,
    filter,
    addToggle,
    flashMs: 10,
  });
  const show = (/** @type {string[]} */ ids) => {
    visible = ids;
  };
  return { root, header, rows, ui, focus, filter, addToggle, show };
}

afterEach(() => document.body.replaceChildren());

describe("focus after a draw", () => {
  it("goes to the next row's main button when the focused row went away", () => {
    const { rows, focus, show } = setup();
    rows.get("b").buttons.get("main").focus();
    const was = focus.before();
    expect(was).toEqual({ lostRow: "b", lostIndex: 1, hadFocus: true, inHeader: false });
    rows.get("b").el.remove();
    show(["a", "c"]);
    focus.after(was);
    expect(document.activeElement).toBe(rows.get("c").buttons.get("main"));
  });

  it("goes to Add model, else the filter, when a focused header part went away", () => {
    const { header, focus, filter, addToggle } = setup();
    for (const [toggleHidden, expected] of [
      [true, filter],
      [false, addToggle],
    ]) {
      addToggle.hidden = /** @type {boolean} */ (toggleHidden);
      const gone = document.createElement("button");
      header.append(gone);
      gone.focus();
      const was = focus.before();
      gone.hidden = true; // a closed Add form's Close
      focus.after(was);
      expect(document.activeElement).toBe(expected);
    }
  });

  it("goes to the first row's main button after Clear filter (the line under the list)", () => {
    const { root, rows, focus, show } = setup();
    const clear = document.createElement("button");
    root.append(clear);
    clear.focus();
    const was = focus.before();
    clear.hidden = true;
    show(["b", "c"]);
    focus.after(was);
    expect(document.activeElement).toBe(rows.get("b").buttons.get("main"));
  });

  it("goes to the More button of a row without a main action (a cloud model)", () => {
    const { rows, focus, show } = setup();
    const a = rows.get("a");
    a.buttons.get("main").focus();
    const was = focus.before();
    a.buttons.get("main").remove();
    a.buttons.delete("main");
    show(["a", "b", "c"]);
    focus.after(was);
    expect(document.activeElement).toBe(a.more);
  });

  it("goes where the user asked: a confirmation's Keep", () => {
    const { rows, ui, focus } = setup();
    const confirm = document.createElement("div");
    const keep = document.createElement("button");
    keep.setAttribute("data-action", "keep");
    confirm.append(keep);
    rows.get("a").el.append(confirm);
    rows.get("a").confirm = confirm;
    ui.focus = { id: "a", part: "confirm" };
    focus.after(focus.before());
    expect(document.activeElement).toBe(keep);
    expect(ui.focus).toBe(null);
  });

  it("leaves a focus that is still there alone", () => {
    const { rows, focus } = setup();
    const b = rows.get("b").buttons.get("main");
    b.focus();
    focus.after(focus.before());
    expect(document.activeElement).toBe(b);
  });
});
