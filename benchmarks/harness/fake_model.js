// A stand-in for the anywidget model in a plain page: the same get/set/on/off/send surface,
// fed by the benchmark instead of a kernel. Both front ends (ours and the rebuild-per-tick
// baseline) are driven through it identically.

export function createModel(initial) {
  const state = { ...initial };
  const listeners = new Map();
  const sent = [];
  const model = {
    get: (name) => state[name],
    set: (name, value) => {
      state[name] = value;
      for (const cb of listeners.get(`change:${name}`) ?? []) cb();
    },
    save_changes: () => {},
    on: (event, cb) => {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(cb);
    },
    off: (event, cb) => listeners.get(event)?.delete(cb),
    send: (msg) => sent.push(msg),
    sent,
  };
  return model;
}

/** 1,000 models in a mix of states, like a big Pieces OS catalog. */
export function catalog(n) {
  const foundations = ["LLAMA_3_8B", "PHI_3_MINI", "GEMMA_1.1_2B", "MISTRAL_7B", "CODESTRAL_22B"];
  const models = [];
  for (let i = 0; i < n; i++) {
    const size = 1e9 + i * 7e6;
    models.push({
      id: `bench-${i}`,
      name: `Bench Model ${i}`,
      version: "1.0.0",
      foundation: foundations[i % foundations.length],
      provider: i % 3 ? "META" : "HUGGING_FACE",
      quantization: "q4f16_1",
      cloud: i % 10 === 9,
      custom: i % 50 === 0,
      downloaded: i % 4 === 1,
      downloading: i < 10,
      loaded: i % 40 === 1,
      bytes: { value: size, readable: `${(size / 1e9).toFixed(1)} GB` },
      ram: { value: size * 1.2, readable: `${((size * 1.2) / 1e9).toFixed(1)} GB` },
    });
  }
  return models;
}

/** The `downloads` trait after `tick` ticks: `active` downloads moving, a new object each time
 * (as a comm update delivers it). */
export function downloadsAt(tick, active) {
  const downloads = {};
  for (let i = 0; i < active; i++) {
    const total = 1e9 + i * 7e6;
    const percentage = Math.min(99, (tick * 0.1 + i) % 100);
    downloads[`bench-${i}`] = {
      status: "IN-PROGRESS",
      percentage,
      bytes_done: Math.round((total * percentage) / 100),
      bytes_total: total,
      speed: 5e6 + tick * 1000,
      eta: 100 - (tick % 100),
      stalled: false,
      stalled_for: 0,
      error: null,
    };
  }
  return downloads;
}
