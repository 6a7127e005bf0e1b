// Test helpers: a fake anywidget model (get/set/on/off/send/save_changes, like Backbone's) and
// fixtures shaped like pieces_widget/widget/wire.py.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import widget from "../src/widget.js";

/** @param {Record<string, unknown>} state */
export function fakeModel(state) {
  /** @type {Map<string, Function[]>} */
  const handlers = new Map();
  return {
    state,
    sent: /** @type {Record<string, unknown>[]} */ ([]),
    /** the callbacks sent with each message, in order (ipywidgets' `send(content, callbacks)`) */
    callbacks: /** @type {any[]} */ ([]),
    saved: 0,
    handlers,
    get: (/** @type {string} */ k) => state[k],
    set(/** @type {string} */ k, /** @type {unknown} */ v) {
      state[k] = v;
      for (const h of handlers.get(`change:${k}`) || []) h();
    },
    on: (/** @type {string} */ e, /** @type {Function} */ h) =>
      handlers.set(e, [...(handlers.get(e) || []), h]),
    off: (/** @type {string} */ e, /** @type {Function} */ h) =>
      handlers.set(
        e,
        (handlers.get(e) || []).filter((x) => x !== h),
      ),
    send(/** @type {Record<string, unknown>} */ msg, /** @type {any} */ callbacks) {
      this.sent.push(msg);
      this.callbacks.push(callbacks);
    },
    /** The kernel handled the message sent `index`-th (its idle status), as ipywidgets reports it. */
    handled(/** @type {number} */ index) {
      const status = { header: { msg_type: "status" }, content: { execution_state: "idle" } };
      this.callbacks[index]?.iopub?.status?.(status);
    },
    save_changes() {
      this.saved += 1;
    },
  };
}

export const connected = {
  state: "connected",
  base_url: "http://127.0.0.1:39300",
  version: "11.0.0",
  message: "",
};

export const GB = 1e9;

/** A local model, not downloaded. */
export const local = (over = {}) => ({
  id: "m1",
  name: "Model One",
  version: "1.0",
  foundation: "PHI_3_MINI",
  provider: "MICROSOFT",
  quantization: "q4f16_1",
  parameters: 3.8,
  maxTokens: { total: 4096 },
  bytes: { value: 4.9 * GB, readable: "4.9 GB" },
  ram: { value: 6.1 * GB, readable: "6.1 GB" },
  ...over,
});

/** A downloads entry (wire.DownloadEntry). */
export const dl = (over = {}) => ({
  status: "IN-PROGRESS",
  percentage: 42.5,
  bytes_done: 14260633,
  bytes_total: 33554432,
  speed: 6291456,
  eta: 3.1,
  stalled: false,
  stalled_for: 0,
  error: null,
  ...over,
});

/** Every trait with a sane default, overridden by `over`. */
export function traits(over = {}) {
  return {
    models: [],
    downloads: {},
    connection: connected,
    error: "",
    _busy: {},
    _row_errors: {},
    _resources: { total_memory: 32 * GB, available_memory: 16 * GB, free_disk: 180 * GB },
    _capabilities: { sources: false },
    _view: { sort: "name", group: false },
    _add: { busy: false, error: "" },
    ...over,
  };
}

/** Render one view into a fresh host attached to the document. */
export function mount(state = traits()) {
  const model = fakeModel(state);
  const host = document.createElement("div");
  document.body.append(host);
  const cleanup = /** @type {() => void} */ (
    /** @type {any} */ (widget).render({ model, el: host })
  );
  // `sent` starts empty: the view's own open message has its test ("view lifecycle messages").
  model.callbacks = model.callbacks.filter((_, i) => model.sent[i].action !== "view");
  model.sent = model.sent.filter((msg) => msg.action !== "view");
  return { model, host, cleanup };
}

/** Let the view draw (one animation frame). */
export const frame = () => new Promise((r) => requestAnimationFrame(() => r(undefined)));

/** @param {ParentNode} root @param {string} id */
export const row = (root, id) =>
  /** @type {HTMLElement} */ (root.querySelector(`[data-model-id="${id}"]`));
/** @param {ParentNode} node */
export const buttonTexts = (node) =>
  [...node.querySelectorAll(".pw-actions button[data-action]")].map((b) => b.textContent);
/** @param {ParentNode} node @param {string} action */
export const button = (node, action) =>
  /** @type {HTMLButtonElement} */ (node.querySelector(`button[data-action="${action}"]`));

/** The values of one enum schema of the spec the project tests against (tests/spec). */
export function specEnum(/** @type {string} */ name) {
  const spec = readFileSync(resolve(process.cwd(), "../tests/spec/openapi.yaml"), "utf8");
  const start = spec.indexOf(`\n    ${name}:\n`);
  if (start < 0) throw new Error(`${name} not in the spec`);
  const block = spec.slice(start + 1).split(/\n {4}\S/)[0];
  const list = block.slice(block.indexOf("enum:"));
  return [...list.matchAll(/^\s+- (.+)$/gm)].map((m) => m[1].replace(/^['"]|['"]$/g, ""));
}

/** A node's text as a reader sees it: the no-break spaces that keep "33.6 MB" whole read as spaces. */
export const shown = (/** @type {Node | null | undefined} */ node) =>
  node?.textContent?.replace(/\u00a0/g, " ");
