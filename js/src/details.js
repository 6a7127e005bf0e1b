// @ts-check
/** The labelled fields of a row's Details panel, in words for people. */
import { formatBytes, formatDate, formatParameters, formatTokens } from "./format.js";
import {
  enumLabel,
  foundationLabel,
  providerLabel,
  quantizationLabel,
  stateText,
} from "./labels.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */

/**
 * The labelled fields of the Details panel, in words for people; empty fields are left out.
 * @param {ModelJson} m
 * @returns {[string, string][]}
 */
export function detailFields(m) {
  const size = m.bytes?.value != null ? formatBytes(m.bytes.value) : (m.bytes?.readable ?? "");
  const ram = m.ram?.value != null ? formatBytes(m.ram.value) : (m.ram?.readable ?? "");
  /** @type {[string, string][]} */
  const fields = [
    ["Name", m.name ?? ""],
    ["State", stateText(m)],
    ["Version", m.version ?? ""],
    ["Foundation", foundationLabel(m.foundation)],
    ["Provider", providerLabel(m.provider)],
    ["Quantization", quantizationLabel(m.quantization)],
    ["Parameters", formatParameters(m.parameters, "billion")],
    ["Context", formatTokens(m.maxTokens?.total)],
    ["Size", size],
    ["RAM", ram],
    ["Partial download", m.partialBytes ? formatBytes(m.partialBytes) : ""],
    ["Type", enumLabel(m.type)],
    ["Usage", enumLabel(m.usage)],
    ["Runs on", m.cpu == null ? "" : m.cpu ? "CPU" : "GPU"],
    ["Created", m.created?.readable ?? formatDate(m.created?.value)],
    ["Description", m.description ?? ""],
    ["Id", m.id],
  ];
  return fields.filter(([, value]) => value !== "");
}
