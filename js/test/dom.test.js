import { describe, expect, it } from "vitest";
import { syncChildren } from "../src/dom.js";

/** @param {string[]} names */
function nodes(names) {
  return Object.fromEntries(
    names.map((n) => {
      const d = document.createElement("div");
      d.id = n;
      return [n, d];
    }),
  );
}
const ids = (/** @type {Element} */ parent) => [...parent.children].map((c) => c.id);

/** Nodes moved by one syncChildren call (a move shows as a removal and an addition). */
function moved(/** @type {Element} */ parent, /** @type {() => void} */ act) {
  const observer = new MutationObserver(() => {});
  observer.observe(parent, { childList: true });
  act();
  const records = observer.takeRecords();
  observer.disconnect();
  return new Set(
    records.flatMap((r) => [...r.addedNodes].map((n) => /** @type {Element} */ (n).id)),
  );
}

describe("syncChildren", () => {
  it("reorders with the fewest moves", () => {
    const n = nodes("abcdefghij".split(""));
    const parent = document.createElement("div");
    document.body.append(parent);
    syncChildren(parent, Object.values(n));
    expect(ids(parent)).toEqual("abcdefghij".split(""));
    // one row jumps from the end to the top: only that row moves
    const order = "jabcdefghi".split("");
    expect(
      moved(parent, () =>
        syncChildren(
          parent,
          order.map((k) => n[k]),
        ),
      ),
    ).toEqual(new Set(["j"]));
    expect(ids(parent)).toEqual(order);
    // same order: nothing moves
    expect(
      moved(parent, () =>
        syncChildren(
          parent,
          order.map((k) => n[k]),
        ),
      ),
    ).toEqual(new Set());
    // filter out three, keep the rest in place
    const fewer = "jacdfgi".split("");
    expect(
      moved(parent, () =>
        syncChildren(
          parent,
          fewer.map((k) => n[k]),
        ),
      ),
    ).toEqual(new Set());
    expect(ids(parent)).toEqual(fewer);
    // a swap of two neighbours moves one
    const swapped = "ajcdfgi".split("");
    expect(
      moved(parent, () =>
        syncChildren(
          parent,
          swapped.map((k) => n[k]),
        ),
      ).size,
    ).toBe(1);
    expect(ids(parent)).toEqual(swapped);
    parent.remove();
  });

  it("moves between parents before pruning, when asked", () => {
    const n = nodes(["x", "y", "z"]);
    const [a, b] = [document.createElement("div"), document.createElement("div")];
    document.body.append(a, b);
    syncChildren(a, [n.x, n.y]);
    syncChildren(b, [n.z]);
    syncChildren(a, [n.x], false);
    syncChildren(b, [n.y, n.z], false);
    syncChildren(a, [n.x]);
    syncChildren(b, [n.y, n.z]);
    expect([ids(a), ids(b)]).toEqual([["x"], ["y", "z"]]);
  });
});
