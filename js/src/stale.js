// @ts-check
/**
 * What each trait makes stale in a view, in one table: the draw redoes only those parts. A new
 * synced trait is one row here (a test checks that every trait of wire.gen.js has one). `add` is
 * the view's own: its Add form opened or closed.
 *
 * Parts: `banner` (connection line), `summary`, `runtime` (notice), `controls` (sort, group),
 * `add` (form), `added` (an Add answered), `rows` (every visible row), `order` (sort, filter,
 * count), `gone` (rows of removed models), and the per-id diffs `downloads`, `busy`, `rowErrors`.
 */

/** @type {Readonly<Record<string, readonly string[]>>} */
export const STALE = Object.freeze({
  connection: ["banner", "summary", "runtime", "add"],
  models: ["summary", "rows", "order", "gone"],
  _resources: ["summary", "rows"],
  downloads: ["summary", "downloads"],
  runtime: ["runtime"],
  _view: ["controls", "order"],
  _add: ["add", "added"],
  _capabilities: ["add"],
  _busy: ["busy"],
  _row_errors: ["rowErrors"],
  error: [], // for code only: the view does not show it
  add: ["add"],
});

/** Every part: what `*` (the first draw, a lost kernel) makes stale. */
export const PARTS = Object.freeze([...new Set(Object.values(STALE).flat())]);

/**
 * The parts made stale by the traits that changed (`*`: all of them).
 * @param {Iterable<string>} traits @returns {Set<string>}
 */
export function staleParts(traits) {
  const parts = new Set();
  for (const name of traits)
    for (const p of name === "*" ? PARTS : (STALE[name] ?? [])) parts.add(p);
  return parts;
}
