// A row's signature (signature.js): built from every row input.
import { describe, expect, it } from "vitest";
import { changedKeys, keyOf, rowSig, sameModel } from "../src/signature.js";
import { dl, GB, local } from "./helpers.js";

/** @type {import("../src/state.js").RowInputs} */
const base = {
  pending: null,
  download: dl(),
  busy: undefined,
  rowError: undefined,
  offline: false,
  stopped: false,
  resources: { total_memory: 32 * GB, available_memory: 16 * GB, free_disk: 180 * GB },
  finishing: false,
  confirm: null,
  editing: false,
  details: false,
  lastAction: undefined,
  notice: undefined,
  runtime: "",
};

describe("row signature", () => {
  const m = local();
  it("changes with any input, including one it was never told about", () => {
    const sig = rowSig(m, base);
    /** @type {Record<string, unknown>} */
    const changes = {
      download: dl({ percentage: 50 }),
      busy: "loading",
      rowError: "boom",
      offline: true,
      stopped: true,
      finishing: true,
      confirm: "delete",
      editing: true,
      details: true,
      lastAction: "load",
      notice: "Saved",
      runtime: "Install",
      pending: { action: "load", waiting: false },
      brandNew: 1,
    };
    for (const [name, value] of Object.entries(changes))
      expect(rowSig(m, { ...base, [name]: value }), name).not.toBe(sig);
  });

  it("counts a pending command by action and waiting, not its timers", () => {
    const p = { action: "load", waiting: false, timers: [1] };
    const sig = rowSig(m, { ...base, pending: p });
    expect(rowSig(m, { ...base, pending: { ...p, timers: [2] } })).toBe(sig);
    expect(rowSig(m, { ...base, pending: { ...p, waiting: true } })).not.toBe(sig);
  });

  it("counts resources by the model's fit only", () => {
    const sig = rowSig(m, base);
    const more = { ...base, resources: { ...base.resources, available_memory: 20 * GB } };
    expect(rowSig(m, more)).toBe(sig);
    const short = { ...base, resources: { ...base.resources, available_memory: 1 * GB } };
    expect(rowSig(m, short)).not.toBe(sig);
  });

  it("compares models and entries by their JSON", () => {
    expect(sameModel(m, local())).toBe(true);
    expect(sameModel(m, local({ loaded: true }))).toBe(false);
    expect(sameModel(null, m)).toBe(false);
    expect([keyOf(undefined), keyOf(3), keyOf({ a: 1 })]).toEqual(["", "3", '{"a":1}']);
    const ids = new Set();
    changedKeys({ a: dl(), b: dl(), c: dl() }, { a: dl(), b: dl({ eta: 1 }), d: dl() }, ids, keyOf);
    expect([...ids].sort()).toEqual(["b", "c", "d"]);
  });
});
