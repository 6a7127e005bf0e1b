// WCAG AA contrast of the widget's colours, computed from widget.css itself: the --pw-* custom
// properties resolved against JupyterLab's light and dark theme variables (JupyterLab 4.x
// theme-light/theme-dark values) and against the CSS fallbacks for hosts without them, light and
// dark (prefers-color-scheme). axe-core checks few nodes inside JupyterLab, so this is the check.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const css = readFileSync(resolve(process.cwd(), "src/widget.css"), "utf8");

/** --jp-* values of JupyterLab 4's own themes. */
const JUPYTERLAB = {
  light: {
    "--jp-ui-font-color1": "rgba(0,0,0,.87)",
    "--jp-ui-font-color2": "rgba(0,0,0,.54)",
    "--jp-layout-color1": "white",
    "--jp-layout-color2": "#eeeeee",
    "--jp-layout-color3": "#bdbdbd",
    "--jp-border-color1": "#bdbdbd",
    "--jp-border-color2": "#e0e0e0",
    "--jp-input-background": "#f5f5f5",
    "--jp-brand-color1": "#1976d2",
    "--jp-error-color1": "#d32f2f",
    "--jp-warn-color1": "#f57c00",
    "--jp-success-color1": "#388e3c",
  },
  dark: {
    "--jp-ui-font-color1": "rgba(255,255,255,.87)",
    "--jp-ui-font-color2": "rgba(255,255,255,.54)",
    "--jp-layout-color1": "#212121",
    "--jp-layout-color2": "#424242",
    "--jp-layout-color3": "#616161",
    "--jp-border-color1": "#616161",
    "--jp-border-color2": "#424242",
    "--jp-input-background": "#424242",
    "--jp-brand-color1": "#2196f3",
    "--jp-error-color1": "#f44336",
    "--jp-warn-color1": "#ff9800",
    "--jp-success-color1": "#4caf50",
  },
};

/** The --pw-* declarations of the first `.pieces-widget {` block in `text`. */
function declarations(/** @type {string} */ text) {
  const start = text.indexOf(".pieces-widget {");
  const body = text.slice(text.indexOf("{", start) + 1, text.indexOf("}", start));
  return Object.fromEntries(
    [...body.matchAll(/(--pw-[\w-]+):\s*([^;]+);/g)].map((m) => [m[1], m[2].trim()]),
  );
}
const base = declarations(css);
const darkFallbacks = declarations(css.slice(css.indexOf("@media (prefers-color-scheme: dark)")));

/** @typedef {[number, number, number, number]} RGBA */
/** @param {string} text @returns {RGBA} */
function parseColor(text) {
  const t = text.trim().toLowerCase();
  if (t === "white") return [255, 255, 255, 1];
  if (t === "black") return [0, 0, 0, 1];
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/.exec(t);
  if (hex) {
    const h = hex[1].length === 3 ? [...hex[1]].map((c) => c + c).join("") : hex[1];
    return [0, 2, 4].map((i) => Number.parseInt(h.slice(i, i + 2), 16)).concat(1);
  }
  const rgb = /^rgba?\(([^)]+)\)$/.exec(t);
  if (rgb) {
    const [r, g, b, a = 1] = rgb[1].split(",").map(Number);
    return [r, g, b, a];
  }
  throw new Error(`colour not understood: ${text}`);
}

/** Resolve a --pw-* property to a colour, the way the browser would. */
function resolveColor(
  /** @type {string} */ value,
  /** @type {Record<string, string>} */ pw,
  /** @type {Record<string, string>} */ jp,
) {
  /** @returns {RGBA} */
  const go = (/** @type {string} */ v) => {
    const s = v.trim();
    const ref = /^var\((--[\w-]+)(?:,\s*(.+))?\)$/.exec(s);
    if (ref) {
      const [, name, fallback] = ref;
      if (name.startsWith("--pw-")) return go(pw[name]);
      if (jp[name] !== undefined) return go(jp[name]);
      if (fallback === undefined) throw new Error(`${name} has no value`);
      return go(fallback);
    }
    const mix = /^color-mix\(in srgb,\s*(.+?)\s+(\d+)%,\s*(.+)\)$/.exec(s);
    if (mix) {
      const a = go(mix[1]);
      const b = go(mix[3]);
      const p = Number(mix[2]) / 100;
      return [0, 1, 2].map((i) => a[i] * p + b[i] * (1 - p)).concat(1);
    }
    return parseColor(s);
  };
  return go(value);
}

/** @param {RGBA} fg @param {RGBA} bg */
const over = (fg, bg) => [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
/** @param {number[]} rgb */
function luminance(rgb) {
  const [r, g, b] = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
/** @param {RGBA} fg @param {RGBA} bg */
function contrast(fg, bg) {
  const solidBg = /** @type {RGBA} */ (over(bg, [255, 255, 255, 1]).concat(1));
  const a = luminance(over(fg, solidBg));
  const b = luminance(solidBg);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

const THEMES = {
  "fallback light": { pw: base, jp: {} },
  "fallback dark": { pw: { ...base, ...darkFallbacks }, jp: {} },
  "JupyterLab light": { pw: base, jp: JUPYTERLAB.light },
  "JupyterLab dark": { pw: { ...base, ...darkFallbacks }, jp: JUPYTERLAB.dark },
  "JupyterLab dark, OS light": { pw: base, jp: JUPYTERLAB.dark },
};
/** Text colour, background: what sits on what in widget.css. */
const PAIRS = [
  ["--pw-fg", "--pw-alert-bg", "row alert and unreachable banner"],
  ["--pw-fg", "--pw-confirm-bg", "in-row confirmation"],
  ["--pw-fg", "--pw-bg", "text and buttons"],
  ["--pw-fg-muted", "--pw-bg", "meta, status and progress text"],
  ["--pw-fg", "--pw-input-bg", "inputs"],
];

describe("colour contrast (WCAG AA, 4.5:1)", () => {
  it("parses the colours it checks from widget.css", () => {
    expect(Object.keys(base).length).toBeGreaterThan(10);
    expect(base["--pw-alert-bg"]).toMatch(/color-mix/);
    expect(darkFallbacks["--pw-fg"]).toMatch(/var\(--jp-ui-font-color1/);
    expect(contrast(parseColor("#000"), parseColor("#fff"))).toBeCloseTo(21, 5);
    expect(contrast(parseColor("#767676"), parseColor("#fff"))).toBeCloseTo(4.54, 2);
  });

  for (const [theme, { pw, jp }] of Object.entries(THEMES)) {
    it(`meets 4.5:1 in ${theme}`, () => {
      for (const [fg, bg, where] of PAIRS) {
        const ratio = contrast(
          resolveColor(`var(${fg})`, pw, jp),
          resolveColor(`var(${bg})`, pw, jp),
        );
        expect(ratio, `${where} (${fg} on ${bg}) in ${theme}`).toBeGreaterThanOrEqual(4.5);
      }
      // the alert reads as red: its background is tinted towards the error colour
      const alert = resolveColor("var(--pw-alert-bg)", pw, jp);
      expect(alert[0]).toBeGreaterThan(alert[1]);
      // a stalled bar has its own colour
      const warn = resolveColor("var(--pw-warn)", pw, jp);
      const accent = resolveColor("var(--pw-accent)", pw, jp);
      expect(warn.slice(0, 3)).not.toEqual(accent.slice(0, 3));
    });
  }
});
