// @ts-check
/**
 * JSDoc types of what crosses from Python. The wire shapes are TypedDicts in
 * `pieces_widget/widget/wire.py` (DownloadEntry, Connection, Resources, Capabilities, ViewPrefs); DESIGN.md
 * section 4 describes the same. A key added there is added here in the same commit.
 */

/**
 * A ByteDescriptor of the spec.
 * @typedef {{ value?: number, readable?: string }} Bytes
 */

/**
 * One entry of the `models` trait: the Model JSON as the server returned it (camelCase keys).
 * `error` and `partialBytes` are the reference server's extra fields (wire.MODEL_ERROR_FIELD,
 * wire.MODEL_PARTIAL_FIELD).
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
 * `downloads[model_id]`: wire.DownloadEntry.
 * @typedef {{
 *   status: string, percentage: number | null, bytes_done: number | null,
 *   bytes_total: number | null, speed: number | null, eta: number | null,
 *   stalled: boolean, stalled_for: number, error: string | null,
 *   waiting_for?: number, slow_start?: boolean,
 * }} Download
 */

/**
 * `connection`: wire.Connection.
 * @typedef {"connected" | "connecting" | "unreachable" | "error"} ConnectionState
 * @typedef {{ state: ConnectionState, base_url: string, version: string, message: string }} Connection
 */

/**
 * `runtime`: wire.RuntimeInfo (core/runtime.py), the Ollama runtime local models need.
 * @typedef {"installed" | "missing" | "installing" | "update-required" | "failed" | "none"} RuntimeState
 * @typedef {{ state: RuntimeState, version: string, percentage: number | null,
 *   message: string }} Runtime
 */

/**
 * `_resources`: wire.Resources (bytes; null when unknown).
 * @typedef {{ total_memory: number | null, available_memory: number | null,
 *   free_disk: number | null }} Resources
 */

/**
 * `_capabilities`: wire.Capabilities.
 * @typedef {{ sources: boolean }} Capabilities
 */

/**
 * `_view`: wire.ViewPrefs, set by the browser and remembered per widget instance.
 * @typedef {"name" | "size" | "ram" | "state"} SortKey
 * @typedef {{ sort: SortKey, group: boolean }} ViewPrefs
 */

/**
 * `_add`: the Add model form's state.
 * @typedef {{ busy: boolean, error: string, added?: string }} AddState
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
