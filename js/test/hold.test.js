// The row-order hold (order.js) on its own: held while the pointer or focus is in the list or
// the view says it is busy; never when the user asked; the idle callback when it can re-sort.
import { afterEach, describe, expect, it } from "vitest";
import { createHold, sameOrder } from "../src/order.js";

const before = [{ title: null, ids: ["a", "b", "c"] }];
const sorted = [{ title: null, ids: ["c", "a", "b"] }];

/** @param {{ busy?: boolean }} [o] */
function setup({ busy = false } = {}) {
  const list = document.createElement("div");
  const b = document.createElement("button");
  list.append(b);
  document.body.append(list);
  const state = { busy, idle: 0 };
  const hold = createHold(
    list,
    () => state.busy,
    () => {
      state.idle += 1;
    },
  );
  hold.arrange(before, true);
  return { list, button: b, hold, state };
}

afterEach(() => document.body.replaceChildren());

describe("row-order hold", () => {
  it("sorts an idle list at once", () => {
    const { hold } = setup();
    expect(hold.arrange(sorted, false)).toBe(sorted);
    expect([hold.stale(), hold.due()]).toEqual([false, false]);
  });

  it("keeps places under the pointer, then calls idle when it leaves", () => {
    const { list, hold, state } = setup();
    list.dispatchEvent(new Event("pointerenter"));
    expect(sameOrder(hold.arrange(sorted, false), before)).toBe(true);
    expect([hold.stale(), hold.due()]).toEqual([true, false]);
    list.dispatchEvent(new Event("pointerleave"));
    expect([state.idle, hold.due()]).toEqual([1, true]);
    hold.dispose();
  });

  it("keeps places while the focus is in the list or the view is busy; never when asked", () => {
    const focused = setup();
    focused.button.focus();
    expect(sameOrder(focused.hold.arrange(sorted, false), before)).toBe(true);
    expect(focused.hold.arrange(sorted, true)).toBe(sorted);
    const busy = setup({ busy: true });
    expect(sameOrder(busy.hold.arrange(sorted, false), before)).toBe(true);
    busy.state.busy = false;
    expect(busy.hold.due()).toBe(true);
  });

  it("stops watching the list once disposed", () => {
    const { list, hold, state } = setup();
    list.dispatchEvent(new Event("pointerenter"));
    hold.arrange(sorted, false);
    hold.dispose();
    list.dispatchEvent(new Event("pointerleave"));
    expect(state.idle).toBe(0);
  });
});
