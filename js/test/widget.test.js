import { describe, expect, it } from "vitest";
import { renderRow } from "../src/widget.js";

describe("renderRow", () => {
  it("shows the name as text and tags the row with the model id", () => {
    const row = renderRow({ id: "m1", name: "<b>bold</b>" });
    expect(row.dataset.modelId).toBe("m1");
    expect(row.textContent).toBe("<b>bold</b>");
    expect(row.querySelector("b")).toBeNull();
  });
});
