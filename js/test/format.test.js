import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatContext,
  formatDate,
  formatDuration,
  formatParameters,
  formatPercent,
  keepUnits,
  progressText,
} from "../src/format.js";
import { enumLabel, foundationLabel, providerLabel, quantizationLabel } from "../src/labels.js";
import { dl, specEnum } from "./helpers.js";

const RAW_TOKEN = /[A-Z]{2,}_[A-Z]/;

describe("numbers for people", () => {
  it("formats bytes in decimal units", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(33554432)).toBe("33.6 MB");
    expect(formatBytes(12.3e9)).toBe("12.3 GB");
    expect(formatBytes(180e9)).toBe("180 GB");
    expect(formatBytes(32e9)).toBe("32 GB");
    expect(formatBytes(null)).toBe("?");
  });

  it("says every size as Python's readable_bytes does (one table for both sides)", () => {
    const table = JSON.parse(
      readFileSync(resolve(process.cwd(), "../tests/cases/readable_bytes.json"), "utf8"),
    );
    for (const [n, text] of table.cases) expect([n, formatBytes(n)]).toEqual([n, text]);
  });

  it("formats durations and percentages", () => {
    expect(formatDuration(3.1)).toBe("3 s");
    expect(formatDuration(125)).toBe("2 min 5 s");
    expect(formatDuration(7300)).toBe("2 h 1 min");
    expect(formatPercent(42.54)).toBe("42.5 %");
    expect(formatPercent(100)).toBe("100 %");
    expect(formatPercent(120)).toBe("100 %");
  });

  it("gives parameters and context a unit", () => {
    expect(formatParameters(3.8)).toBe("3.8 B params");
    expect(formatParameters(8.0)).toBe("8 B params");
    expect(formatParameters(141.2)).toBe("141 B params");
    expect(formatParameters(null)).toBe("");
    expect(formatContext(4096)).toBe("4K context");
    expect(formatContext(128000)).toBe("128K context");
    expect(formatContext(131072)).toBe("128K context");
    expect(formatContext(200000)).toBe("200K context");
    expect(formatContext(1048576)).toBe("1M context");
    expect(formatContext(undefined)).toBe("");
  });

  it("describes progress, an unknown ETA and a stall", () => {
    expect(progressText(dl())).toBe("42.5 % · 14.3 MB / 33.6 MB · 6.3 MB/s · ETA 3 s");
    expect(progressText(dl({ eta: null, speed: 0 }))).toBe("42.5 % · 14.3 MB / 33.6 MB · ETA —");
    expect(progressText(dl({ stalled: true, stalled_for: 12, eta: null }))).toBe(
      "42.5 % · 14.3 MB / 33.6 MB · stalled for 12 s",
    );
    expect(progressText(dl({ percentage: null, bytes_total: null, eta: null }))).toBe(
      "… · 6.3 MB/s · ETA —",
    );
  });
});

describe("keepUnits", () => {
  it("joins a number to its unit with a no-break space, nothing else", () => {
    const nb = "\u00a0";
    expect(keepUnits("Memory: 1 model loaded, 33.6 MB of 25.3 GB")).toBe(
      `Memory: 1 model loaded, 33.6${nb}MB of 25.3${nb}GB`,
    );
    expect(keepUnits("12.3 MB / 101 MB · 3.2 MB/s · ETA 4 min 5 s · 12 %")).toBe(
      `12.3${nb}MB / 101${nb}MB · 3.2${nb}MB/s · ETA 4${nb}min 5${nb}s · 12${nb}%`,
    );
    expect(keepUnits("3.8 B params")).toBe(`3.8${nb}B params`);
    // a count and a word, a model name with digits: untouched
    expect(keepUnits("Disk: 2 models, Phi 3 Mini, 8 Bit, 2 starts")).toBe(
      "Disk: 2 models, Phi 3 Mini, 8 Bit, 2 starts",
    );
  });
});

describe("human labels", () => {
  it("writes known foundations as their makers do", () => {
    const cases = {
      LLAMA_3_8B: "Llama 3 8B",
      PHI_3_MINI: "Phi-3 Mini",
      "GEMMA_1.1_2B": "Gemma 1.1 2B",
      GPT_4: "GPT-4",
      "GPT_3.5": "GPT-3.5",
      "CLAUDE_3.5": "Claude 3.5",
      MIXTRAL_8_x_7B: "Mixtral 8x7B",
      CODE_LLAMA_2_13B: "Code Llama 2 13B",
      CODE_GEMMA_7B: "CodeGemma 7B",
      "STARCODER_15.5B": "StarCoder 15.5B",
      "COMMAND_R+": "Command R+",
      QWEN_CODER_LATEST: "Qwen Coder (latest)",
      AZURE_FAST: "Azure (fast)",
      "GROK_1.5": "Grok-1.5",
      FAST_TEXT: "fastText",
      UNKNOWN: "Unknown",
    };
    for (const [token, label] of Object.entries(cases)) expect(foundationLabel(token)).toBe(label);
  });

  it("writes providers, types and usages in words", () => {
    expect(providerLabel("HUGGING_FACE")).toBe("Hugging Face");
    expect(providerLabel("OPENAI")).toBe("OpenAI");
    expect(providerLabel("UC_BERKLEY")).toBe("UC Berkeley");
    expect(providerLabel("RENMIN_UNIVERSITY_OF_CHINA")).toBe("Renmin University of China");
    expect(enumLabel("CODE_GENERATION")).toBe("Code generation");
    expect(enumLabel("TLP_TAG_SEARCH")).toBe("TLP tag search");
    expect(enumLabel("BALANCED")).toBe("Balanced");
  });

  it("reads unknown tokens as words", () => {
    expect(foundationLabel("NEWMODEL_9_SUPER_70B")).toBe("Newmodel 9 Super 70B");
    expect(providerLabel("ACME_AI_LABS")).toBe("Acme AI Labs");
    expect(quantizationLabel("q4f16_1")).toBe("4-bit (q4f16_1)");
    expect(quantizationLabel("Q4_K_M")).toBe("Q4_K_M");
    expect(quantizationLabel("INT_EIGHT_PACKED")).toBe("Int Eight Packed");
  });

  it("leaves no UPPER_CASE token for any value of the spec's enums", () => {
    const enums = {
      ModelFoundationEnum: foundationLabel,
      ExternalMLProviderEnum: providerLabel,
      ModelTypeEnum: enumLabel,
      ModelUsageEnum: enumLabel,
    };
    let checked = 0;
    for (const [name, label] of Object.entries(enums)) {
      const values = specEnum(name);
      expect(values.length).toBeGreaterThan(2);
      for (const value of values) {
        const text = label(value);
        expect(text, `${name}.${value}`).not.toMatch(RAW_TOKEN);
        expect(text, `${name}.${value}`).not.toContain("_");
        expect(text.length).toBeGreaterThan(0);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(150);
  });
});

describe("formatDate", () => {
  it("reads a Pieces timestamp as a UTC minute, and keeps what is not a date", () => {
    expect(formatDate("2026-11-27T15:50:46.744032+00:00")).toBe("2026-11-27 15:50 UTC");
    expect(formatDate("2026-11-27T17:50:46+02:00")).toBe("2026-11-27 15:50 UTC");
    expect(formatDate("yesterday")).toBe("yesterday");
    expect(formatDate(undefined)).toBe("");
  });
});
