// @ts-check
/**
 * When a view draws, and what changed since it last did: one draw per animation frame, the
 * traits that changed (see stale.js), the rows touched by the view's own state, and whether the
 * order is due (asked by the user, or not). Progress ticks alone draw at most every
 * `timing.progressMs`: 10 downloads at 10 Hz then cost half the frames, and anything else (a
 * click, a state change) still draws on the next frame.
 */

/** @typedef {{ traits: Set<string>, rows: Set<string>, order: boolean, asked: boolean }} Changes */

/**
 * @param {() => void} draw @param {{ progressMs: number }} timing
 */
export function createFrames(draw, timing) {
  /** @type {Changes} */
  let changes = { traits: new Set(["*"]), rows: new Set(), order: true, asked: true };
  let frame = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let progressTimer;
  let lastDraw = Number.NEGATIVE_INFINITY;
  const schedule = () => {
    if (!frame)
      frame = requestAnimationFrame(() => {
        frame = 0;
        draw();
      });
  };
  /** A progress tick: draw soon, not at once. */
  const progress = () => {
    if (frame || progressTimer !== undefined) return;
    const wait = lastDraw + timing.progressMs - performance.now();
    if (wait <= 0) schedule();
    else
      progressTimer = setTimeout(() => {
        progressTimer = undefined;
        schedule();
      }, wait);
  };
  return {
    /** A trait changed (or the view's own `add`; `*`: everything). @param {string} name */
    trait(name) {
      changes.traits.add(name);
      if (name === "downloads") progress();
      else schedule();
    },
    /** @param {string} id */
    row(id) {
      changes.rows.add(id);
      schedule();
    },
    /** A re-sort the user asked for (a control, Clear filter, Sort now): never held. */
    userOrder() {
      changes.order = true;
      changes.asked = true;
      schedule();
    },
    /** A re-sort that waited for the list to go idle. */
    order() {
      changes.order = true;
      schedule();
    },
    /** What changed since the last draw, which starts now. @returns {Changes} */
    take() {
      lastDraw = performance.now();
      clearTimeout(progressTimer);
      progressTimer = undefined;
      const taken = changes;
      changes = { traits: new Set(), rows: new Set(), order: false, asked: false };
      return taken;
    },
    stop() {
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      clearTimeout(progressTimer);
    },
  };
}
