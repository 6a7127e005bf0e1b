// @ts-check
/**
 * JSDoc types of what crosses from Python. The wire shapes are TypedDicts in
 * `pieces_widget/widget/wire.py`, written out into `wire.gen.js` (never by hand); DESIGN.md
 * section 4 describes the same. The Model JSON is the server's, as the spec shapes it.
 */

/**
 * A ByteDescriptor of the spec.
 * @typedef {{ value?: number, readable?: string }} Bytes
 */

/**
 * One entry of the `models` trait: the Model JSON as the server returned it (camelCase keys).
 * `error` and `partialBytes` are the reference server's extra fields (see wire.py).
 * @typedef {{
 *   id: string, name?: string, version?: string, description?: string, foundation?: string,
 *   provider?: string, quantization?: string, type?: string, usage?: string, unique?: string,
 *   cloud?: boolean, custom?: boolean, cpu?: boolean, downloaded?: boolean,
 *   downloading?: boolean, loaded?: boolean, bytes?: Bytes, ram?: Bytes,
 *   parameters?: number | null,
 *   maxTokens?: { total?: number | null, input?: number | null, output?: number | null },
 *   created?: { value?: string, readable?: string },
 *   error?: string | null, partialBytes?: number | null,
 * }} ModelJson
 */

/**
 * The shapes written in `pieces_widget/widget/wire.py`, generated into `wire.gen.js`.
 * @typedef {import("./wire.gen.js").Download} Download
 * @typedef {import("./wire.gen.js").Connection} Connection
 * @typedef {Connection["state"]} ConnectionState
 * @typedef {import("./wire.gen.js").Resources} Resources
 * @typedef {import("./wire.gen.js").Runtime} Runtime
 * @typedef {Runtime["state"]} RuntimeState
 * @typedef {import("./wire.gen.js").Capabilities} Capabilities
 * @typedef {import("./wire.gen.js").ViewPrefs} ViewPrefs
 * @typedef {ViewPrefs["sort"]} SortKey
 * @typedef {import("./wire.gen.js").AddState} AddState
 */

/**
 * Every synced trait the front end reads.
 * @typedef {{
 *   models: ModelJson[], downloads: Record<string, Download>, connection: Connection,
 *   error: string, _busy: Record<string, string>, _row_errors: Record<string, string>,
 *   _resources: Resources, _capabilities: Capabilities, _view: ViewPrefs, _add: AddState,
 *   runtime: Runtime,
 * }} Traits
 */

/** @typedef {import("@anywidget/types").AnyModel<Traits>} WidgetModel */

export {};
