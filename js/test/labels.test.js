// One vocabulary on both sides: the tables in tests/cases/ that Python's core/labels.py and
// core/numbers.py are checked against (tests/test_labels.py) hold here too.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { detailFields } from "../src/details.js";
import { formatParameters, formatPercent, formatTokens, keptPercent } from "../src/format.js";
import {
  enumLabel,
  foundationLabel,
  providerLabel,
  quantizationLabel,
  stateBadges,
  stateText,
  stateWords,
} from "../src/labels.js";
import { rowState } from "../src/state.js";

const cases = (/** @type {string} */ name) =>
  JSON.parse(readFileSync(resolve(process.cwd(), `../tests/cases/${name}`), "utf8"));

describe("the shared cases", () => {
  it("reads every enum token as Python does", () => {
    const table = cases("labels.json");
    const fns = /** @type {Record<string, (t: string) => string>} */ ({
      foundation: foundationLabel,
      provider: providerLabel,
      quantization: quantizationLabel,
      enum: enumLabel,
    });
    let checked = 0;
    for (const [kind, fn] of Object.entries(fns)) {
      for (const [token, label] of table[kind]) {
        expect([kind, token, fn(token)]).toEqual([kind, token, label]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  it("says percentages, kept parts, parameters and context sizes as Python does", () => {
    const table = cases("numbers.json");
    for (const [pct, text] of table.percent) expect([pct, formatPercent(pct)]).toEqual([pct, text]);
    for (const [partial, total, kept] of table.kept_percent)
      expect([partial, total, keptPercent(partial, total)]).toEqual([partial, total, kept]);
    for (const [b, unit, text] of table.parameters)
      expect([b, unit, unit ? formatParameters(b, unit) : formatParameters(b)]).toEqual([
        b,
        unit,
        text,
      ]);
    for (const [tokens, text] of table.tokens)
      expect([tokens, formatTokens(tokens)]).toEqual([tokens, text]);
  });

  it("says a model's state in Python's words, in the badges and Details too", () => {
    const table = cases("state_words.json").cases;
    expect(table.length).toBeGreaterThan(10);
    for (const c of table) {
      const m = { id: "m", ...c.model };
      expect([c.model, c.activity, stateWords(m, c.activity)]).toEqual([
        c.model,
        c.activity,
        c.words,
      ]);
      if (c.activity === undefined) {
        expect(stateText(m)).toBe(c.words.join(" · "));
        const state = Object.fromEntries(detailFields(m)).State;
        expect(state).toBe(c.words.join(" · "));
      }
    }
  });
});

describe("badges", () => {
  it("are the state words but Not downloaded and Partly downloaded (the button says it)", () => {
    const partial = { id: "p", partialBytes: 5, bytes: { value: 10 }, custom: true };
    expect(stateBadges(partial, "")).toEqual(["Custom"]);
    expect(stateBadges({ id: "n" }, "")).toEqual([]);
    expect(stateBadges({ id: "d", downloaded: true, loaded: true }, "")).toEqual([
      "On device",
      "Loaded",
    ]);
    expect(rowState({ id: "s", downloading: true }, {}).badges).toEqual(["Downloading"]);
  });
});
