import { describe, expect, it } from "vitest";
import { catalogOf, orderRows } from "../src/catalog.js";
import { GB, local } from "./helpers.js";

const models = [
  local({ id: "small", name: "Zed small", bytes: { value: 1 * GB }, ram: { value: 2 * GB } }),
  local({
    id: "big",
    name: "Alpha big",
    bytes: { value: 9 * GB },
    ram: { value: 1 * GB },
    downloaded: true,
  }),
  local({
    id: "mid",
    name: "Mid",
    bytes: { value: 5 * GB },
    ram: { value: 8 * GB },
    downloaded: true,
    loaded: true,
  }),
  local({
    id: "cloud",
    name: "Cloud one",
    cloud: true,
    bytes: undefined,
    ram: undefined,
    foundation: "GPT_4",
    provider: "OPENAI",
  }),
  local({ id: "dl", name: "Beta downloading", bytes: { value: 3 * GB }, ram: undefined }),
];
/** @param {any} opts */
const ids = (opts) =>
  orderRows(catalogOf(models), {
    query: "",
    showCloud: true,
    active: new Set(["dl"]),
    ...opts,
    prefs: { sort: "name", group: false, ...opts.prefs },
  }).sections.map((s) => [s.title, s.ids]);

describe("order of the rows", () => {
  it("sorts by name, size, RAM (biggest first) and state", () => {
    expect(ids({})).toEqual([[null, ["big", "dl", "cloud", "mid", "small"]]]);
    expect(ids({ prefs: { sort: "size" } })).toEqual([
      [null, ["big", "mid", "dl", "small", "cloud"]],
    ]);
    expect(ids({ prefs: { sort: "ram" } })).toEqual([
      [null, ["mid", "small", "big", "dl", "cloud"]],
    ]);
    expect(ids({ prefs: { sort: "state" } })).toEqual([
      [null, ["mid", "dl", "big", "small", "cloud"]],
    ]);
  });

  it("groups into On device, Available and Cloud", () => {
    expect(ids({ prefs: { group: true, sort: "size" } })).toEqual([
      ["On device", ["big", "mid"]],
      ["Available", ["dl", "small"]],
      ["Cloud", ["cloud"]],
    ]);
    expect(ids({ prefs: { group: true }, showCloud: false })).toEqual([
      ["On device", ["big", "mid"]],
      ["Available", ["dl", "small"]],
    ]);
  });

  it("filters by name, id, and human or raw foundation and provider", () => {
    expect(ids({ query: "gpt-4" })).toEqual([[null, ["cloud"]]]);
    expect(ids({ query: "OpenAI" })).toEqual([[null, ["cloud"]]]);
    expect(ids({ query: "GPT_4" })).toEqual([[null, ["cloud"]]]);
    expect(ids({ query: " zed " })).toEqual([[null, ["small"]]]);
    expect(ids({ query: "xyz" })).toEqual([[null, []]]);
    // state words match from their start: "loaded" is not found inside "downloaded"
    expect(ids({ query: "loaded" })).toEqual([[null, ["mid"]]]);
    expect(ids({ query: "down" })).toEqual([[null, ["big", "dl", "mid"]]]);
    expect(ids({ query: "on device" })).toEqual([[null, ["big", "mid"]]]);
  });

  it("indexes a model list once, whatever the number of views", () => {
    expect(catalogOf(models)).toBe(catalogOf(models));
    expect(catalogOf([...models])).not.toBe(catalogOf(models));
  });

  it("sorts and groups 1,000 models fast", () => {
    const many = Array.from({ length: 1000 }, (_, i) =>
      local({
        id: `m${i}`,
        name: `Bench Model ${(i * 7919) % 1000}`,
        bytes: { value: ((i * 31) % 997) * GB },
        downloaded: i % 3 === 0,
        loaded: i % 50 === 0,
      }),
    );
    const catalog = catalogOf(many);
    const started = performance.now();
    for (const sort of ["name", "size", "ram", "state"]) {
      for (const group of [false, true]) {
        const { count } = orderRows(catalog, {
          query: "",
          showCloud: true,
          active: new Set(),
          prefs: { sort: /** @type {any} */ (sort), group },
        });
        expect(count).toBe(1000);
      }
    }
    const each = (performance.now() - started) / 8;
    expect(each).toBeLessThan(25); // ms per sort of 1,000 rows, even under jsdom on a busy machine
    const first = orderRows(catalog, {
      query: "",
      showCloud: true,
      active: new Set(),
      prefs: { sort: "name", group: false },
    });
    const names = first.sections[0].ids.slice(0, 3).map((id) => catalog.byId.get(id)?.name);
    expect(names).toEqual(["Bench Model 0", "Bench Model 1", "Bench Model 2"]); // numeric order
  });
});
