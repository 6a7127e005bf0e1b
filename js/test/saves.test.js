import { describe, expect, it } from "vitest";
import { saveOutcome } from "../src/saves.js";
import { local } from "./helpers.js";

const sent = (over = {}) => ({
  name: "New",
  description: "words",
  sawBusy: false,
  errorBefore: "",
  ...over,
});
const before = local({ custom: true, name: "Old", description: "old" });
const after = local({ custom: true, name: "New", description: "words" });

describe("saveOutcome", () => {
  it("waits while saving, and before any answer", () => {
    expect(saveOutcome(sent({ sawBusy: true }), after, "saving", undefined)).toBe("wait");
    expect(saveOutcome(sent(), before, undefined, undefined)).toBe("wait");
  });

  it("counts a save done when it was seen busy, or when the model carries what was sent", () => {
    expect(saveOutcome(sent({ sawBusy: true }), before, undefined, undefined)).toBe("saved");
    expect(saveOutcome(sent(), after, undefined, undefined)).toBe("saved");
    const empty = local({ custom: true, name: "New" }); // no description is an empty one
    expect(saveOutcome(sent({ description: "" }), empty, undefined, undefined)).toBe("saved");
  });

  it("counts a save refused on a new error, not on the one it was submitted with", () => {
    expect(saveOutcome(sent(), before, undefined, "HTTP 400: name")).toBe("refused");
    expect(saveOutcome(sent({ sawBusy: true, errorBefore: "x" }), before, undefined, "x")).toBe(
      "refused",
    );
    expect(saveOutcome(sent({ errorBefore: "x" }), after, undefined, "x")).toBe("wait");
  });
});
