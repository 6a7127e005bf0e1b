// The table of what each trait makes stale (stale.js).
import { describe, expect, it } from "vitest";
import { PARTS, STALE, staleParts } from "../src/stale.js";
import { TRAITS } from "../src/wire.gen.js";

describe("trait -> stale parts", () => {
  it("has a row for every synced trait, so a new trait cannot be forgotten", () => {
    for (const name of TRAITS) expect(STALE, name).toHaveProperty(name);
  });

  it("makes every part stale for *, and only the listed ones otherwise", () => {
    expect(staleParts(["*"])).toEqual(new Set(PARTS));
    expect(staleParts(["connection"])).toEqual(new Set(["banner", "summary", "runtime", "add"]));
    expect(staleParts(["models", "_busy"])).toEqual(
      new Set(["summary", "rows", "order", "gone", "busy"]),
    );
    expect(staleParts(["error", "unknown"])).toEqual(new Set());
  });

  it("answers an Add only when _add changed, not when the form is toggled", () => {
    expect(staleParts(["_add"]).has("added")).toBe(true);
    expect(staleParts(["add", "connection", "_capabilities"]).has("added")).toBe(false);
  });
});
