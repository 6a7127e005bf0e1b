// Layout rules the browser test measures (tests/browser/test_live.py), checked here on widget.css
// itself so a change that drops them fails fast.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const css = readFileSync(resolve(process.cwd(), "src/widget.css"), "utf8").replace(
  /\/\*[\s\S]*?\*\//g,
  "",
);

/** The declarations of the rule whose selector list is exactly `selector`. */
function rule(/** @type {string} */ selector) {
  const blocks = [...css.matchAll(/([^{}]+)\{([^}]*)\}/g)];
  const block = blocks.find((b) => b[1].trim().replace(/\s+/g, " ") === selector);
  if (!block) return {};
  return Object.fromEntries(
    [...block[2].matchAll(/([\w-]+):\s*([^;]+);/g)].map((m) => [m[1], m[2].trim()]),
  );
}

describe("widget.css", () => {
  it("keeps a Details label on one line ('Partial download')", () => {
    expect(rule(".pieces-widget .pw-details dt")).toMatchObject({ "white-space": "nowrap" });
  });

  it("puts the Edit form's labels on one line, whatever the height of their fields", () => {
    expect(rule(".pieces-widget .pw-edit .pw-field")).toMatchObject({
      "align-self": "stretch",
      "justify-content": "flex-start",
    });
  });

  it("draws an aria-disabled button like a disabled one", () => {
    const selectors = [...css.matchAll(/([^{}]+)\{[^}]*opacity:\s*0\.5/g)].map((m) => m[1]);
    expect(selectors.join(",")).toContain('.pw-button[aria-disabled="true"]');
  });
});
