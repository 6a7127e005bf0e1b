// @ts-check
/** A model's name and the line under it (version, family, provider, quantization, size...). */
import { formatBytes, formatContext, formatParameters } from "./format.js";
import { foundationLabel, providerLabel, quantizationLabel } from "./labels.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */

/** @param {ModelJson} m */
export function displayName(m) {
  return m.name || m.id;
}

/** @type {WeakMap<ModelJson, string>} */
const metaLines = new WeakMap();

/** The line under a model's name, once per Model JSON object. @param {ModelJson} m */
export function metaLine(m) {
  let line = metaLines.get(m);
  if (line === undefined) {
    line = metaParts(m);
    metaLines.set(m, line);
  }
  return line;
}

/** @param {ModelJson} m */
function metaParts(m) {
  const parts = [
    m.version ? `v${m.version}` : "",
    foundationLabel(m.foundation),
    providerLabel(m.provider),
    quantizationLabel(m.quantization),
    formatParameters(m.parameters),
    formatContext(m.maxTokens?.total),
    m.bytes?.value != null ? `size ${formatBytes(m.bytes.value)}` : "",
    m.ram?.value != null ? `RAM ${formatBytes(m.ram.value)}` : "",
  ];
  return parts.filter(Boolean).join(" · ");
}
