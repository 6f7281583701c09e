// affekt's page: text, speech and faces against this server's /v1 API. No libraries, no CDN.
"use strict";

const COLORS = {
  anger: "#c5221f", disgust: "#6d8b00", fear: "#7b1fa2", happiness: "#e37400", joy: "#e37400",
  sadness: "#1a56c8", surprise: "#00838f", neutral: "#5f6368", uncertain: "#9aa0a6",
};
const colorOf = (label) => COLORS[label] || "#0b57d0";
let authRequired = false;

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const key = $("api-key").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

function svgEl(tag, attrs) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function showError(target, message) {
  target.replaceChildren(el("p", { class: "error", role: "alert", text: message }));
}

async function call(url, options) {
  let r;
  try {
    r = await fetch(url, options);
  } catch (e) {
    throw new Error("the server could not be reached (" + e.message + ")");
  }
  let body = null;
  try { body = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) throw new Error((body && body.error) || ("HTTP " + r.status));
  return body;
}

function bars(scores, k) {
  const top = Object.entries(scores).sort((a, b) => b[1] - a[1]).slice(0, k || 7);
  const g = el("div", { class: "bars", role: "list" });
  for (const [label, s] of top) {
    const pct = Math.round(s * 100);
    const bar = el("div", { class: "bar", role: "meter", "aria-valuemin": "0", "aria-valuemax": "100",
                            "aria-valuenow": String(pct), "aria-label": label + " " + pct + "%" });
    const fill = el("span");
    fill.style.width = Math.max(1, pct) + "%";
    fill.style.background = colorOf(label);
    bar.append(fill);
    g.append(el("span", { text: label, role: "listitem" }), bar, el("span", { class: "num", text: s.toFixed(2) }));
  }
  return g;
}

// valence / arousal (EmoBank's 1-5 scale, 3 = neutral) on Russell's circumplex
function circumplex(v, a) {
  const c = 140, cy = 100, r = 68;
  const svg = svgEl("svg", { viewBox: "0 0 280 200", class: "circumplex", role: "img",
                             "aria-label": `valence ${v.toFixed(2)}, arousal ${a.toFixed(2)} on a 1 to 5 scale` });
  svg.append(svgEl("circle", { cx: c, cy, r, fill: "none", stroke: "#c4c7c5" }));
  svg.append(svgEl("line", { x1: c - r, y1: cy, x2: c + r, y2: cy, stroke: "#c4c7c5" }));
  svg.append(svgEl("line", { x1: c, y1: cy - r, x2: c, y2: cy + r, stroke: "#c4c7c5" }));
  const lab = (x, y, t, anchor) => { const e = svgEl("text", { x, y, "text-anchor": anchor || "middle" }); e.textContent = t; svg.append(e); };
  lab(c, cy - r - 8, "aroused"); lab(c, cy + r + 16, "calm"); lab(c + r + 4, cy + 4, "pleasant", "start");
  lab(c - r - 4, cy + 4, "unpleasant", "end");
  const x = c + Math.max(-1, Math.min(1, (v - 3) / 2)) * r, y = cy - Math.max(-1, Math.min(1, (a - 3) / 2)) * r;
  svg.append(svgEl("circle", { cx: x, cy: y, r: 7, fill: "#0b57d0", stroke: "#fff", "stroke-width": 2 }));
  return svg;
}

function busy(button, on, text) {
  button.disabled = on;
  if (text) button.textContent = text;
}

// ------------------------------------------------------------------------- tabs
const tabs = ["text", "speech", "face"];
function select(name, focus) {
  for (const t of tabs) {
    const on = t === name;
    $("tab-" + t).setAttribute("aria-selected", String(on));
    $("tab-" + t).tabIndex = on ? 0 : -1;
    $("panel-" + t).hidden = !on;
  }
  if (focus) $("tab-" + name).focus();
}
for (const t of tabs) {
  $("tab-" + t).addEventListener("click", () => select(t));
  $("tab-" + t).addEventListener("keydown", (e) => {
    const i = tabs.indexOf(t);
    if (e.key === "ArrowRight") select(tabs[(i + 1) % tabs.length], true);
    else if (e.key === "ArrowLeft") select(tabs[(i + tabs.length - 1) % tabs.length], true);
    else return;
    e.preventDefault();
  });
}

// ------------------------------------------------------------------------- text
$("text-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const out = $("text-result"), btn = $("text-go");
  const texts = $("text-input").value.split("\n").map((s) => s.trim()).filter(Boolean);
  if (!texts.length) return showError(out, "Type a text first.");
  const body = { texts };
  if ($("text-space").value) body.label_space = $("text-space").value;
  busy(btn, true, "Analysing…");
  try {
    const r = await call("/v1/text", { method: "POST", headers: headers({ "Content-Type": "application/json" }),
                                       body: JSON.stringify(body) });
    out.replaceChildren(...r.predictions.map((p) => {
      if (p.error) return el("div", { class: "card" }, el("p", { class: "error", text: p.error }));
      const cols = el("div", { class: "cols" }, bars(p.scores, 7));
      if (p.valence != null && p.arousal != null) cols.append(circumplex(p.valence, p.arousal));
      return el("div", { class: "card text-card" },
        el("h2", { text: p.input }),
        el("p", { class: "top", text: p.labels && p.labels.length ? p.labels.join(", ") : p.label }),
        cols,
        p.warnings ? el("p", { class: "note", text: p.warnings.join(" ") }) : null);
    }));
  } catch (err) {
    showError(out, err.message);
  } finally {
    busy(btn, false, "Analyse text");
  }
});

// ----------------------------------------------------------------------- speech
function wavOf(buffer) {  // an AudioBuffer, 16 kHz mono -> a 16-bit PCM WAV Blob
  const x = buffer.getChannelData(0), n = x.length, view = new DataView(new ArrayBuffer(44 + 2 * n));
  const str = (o, s) => { for (let i = 0; i < s.length; i++) view.setUint8(o + i, s.charCodeAt(i)); };
  str(0, "RIFF"); view.setUint32(4, 36 + 2 * n, true); str(8, "WAVE"); str(12, "fmt ");
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, buffer.sampleRate, true); view.setUint32(28, buffer.sampleRate * 2, true);
  view.setUint16(32, 2, true); view.setUint16(34, 16, true); str(36, "data"); view.setUint32(40, 2 * n, true);
  for (let i = 0; i < n; i++) view.setInt16(44 + 2 * i, Math.max(-1, Math.min(1, x[i])) * 32767, true);
  return new Blob([view], { type: "audio/wav" });
}

// Any audio the browser decodes (a recording's webm/opus, m4a...) -> 16 kHz mono WAV
async function toWav(blob) {
  const data = await blob.arrayBuffer();
  const Ctx = window.AudioContext || window.webkitAudioContext;
  const ctx = new Ctx();
  try {
    const decoded = await ctx.decodeAudioData(data.slice(0));
    const n = Math.ceil(decoded.duration * 16000);
    const off = new OfflineAudioContext(1, Math.max(1, n), 16000);
    const src = off.createBufferSource();
    src.buffer = decoded;
    src.connect(off.destination);
    src.start();
    return wavOf(await off.startRendering());
  } finally {
    ctx.close();
  }
}

function timeline(p, width) {
  const segs = p.segments && p.segments.length ? p.segments
    : [{ start: (p.span || {}).start || 0, end: (p.span || {}).end || 1, label: p.label }];
  const t1 = Math.max(...segs.map((s) => s.end)), w = Math.round(width || 600), h = 56;
  const svg = svgEl("svg", { viewBox: `0 0 ${w} ${h}`, class: "timeline", role: "img",
                             "aria-label": "timeline: " + segs.map((s) => `${s.start.toFixed(1)}-${s.end.toFixed(1)} s ${s.label}`).join("; ") });
  for (const s of segs) {
    const x = (s.start / t1) * w, width = Math.max(2, ((s.end - s.start) / t1) * w - 1);
    const r = svgEl("rect", { x, y: 4, width, height: 28, fill: colorOf(s.label), rx: 3 });
    const title = svgEl("title"); title.textContent = `${s.start.toFixed(1)}–${s.end.toFixed(1)} s: ${s.label}`;
    r.append(title); svg.append(r);
    if (width > 50) { const t = svgEl("text", { x: x + 4, y: 22, fill: "#fff" }); t.textContent = s.label; t.style.fill = "#fff"; svg.append(t); }
  }
  for (let k = 0; k <= 4; k++) {
    const t = svgEl("text", { x: (k / 4) * w, y: 50, "text-anchor": k === 0 ? "start" : k === 4 ? "end" : "middle" }); t.textContent = ((k / 4) * t1).toFixed(1) + " s"; svg.append(t);
  }
  return svg;
}

function showSpeech(r) {
  const out = $("speech-result");
  out.replaceChildren(...r.predictions.map((p) => {
    if (p.error) return el("div", { class: "card" }, el("h2", { text: p.input }), el("p", { class: "error", text: p.error }));
    return el("div", { class: "card speech-card" },
      el("h2", { text: p.input }),
      el("p", { class: "top", text: p.label }),
      el("h3", { text: "Timeline" }), timeline(p, out.clientWidth - 24),
      el("h3", { text: "Scores" }), bars(p.scores, 7));
  }));
}

async function sendSpeech(blob, name) {
  let wav = blob;
  try { wav = await toWav(blob); } catch (e) { /* the browser cannot decode it: let the server say */ }
  const form = new FormData();
  form.append("file", wav, name.replace(/\.[^.]+$/, "") + (wav === blob ? name.slice(name.lastIndexOf(".")) : ".wav"));
  const r = await call("/v1/speech", { method: "POST", headers: headers(), body: form });
  showSpeech(r);
}

// a form with a file input: PANEL-form, PANEL-file, PANEL-go, PANEL-result
function onFileSubmit(panel, send, label, missing) {
  $(panel + "-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = $(panel + "-file").files[0], btn = $(panel + "-go");
    if (!f) return showError($(panel + "-result"), missing);
    busy(btn, true, "Analysing…");
    try { await send(f, f.name); } catch (err) { showError($(panel + "-result"), err.message); }
    finally { busy(btn, false, label); }
  });
}
onFileSubmit("speech", (f, name) => sendSpeech(f, name), "Analyse file", "Choose an audio file first.");

let recorder = null;
$("record").addEventListener("click", async () => {
  const btn = $("record");
  if (recorder) { recorder.stop(); return; }
  if (!navigator.mediaDevices || !window.MediaRecorder) return showError($("speech-result"), "This browser cannot record audio here (recording needs https or localhost).");
  let stream;
  try { stream = await navigator.mediaDevices.getUserMedia({ audio: true }); }
  catch (err) { return showError($("speech-result"), "No microphone: " + err.message); }
  const chunks = [];
  recorder = new MediaRecorder(stream);
  recorder.ondataavailable = (ev) => chunks.push(ev.data);
  recorder.onstop = async () => {
    stream.getTracks().forEach((t) => t.stop());
    recorder = null;
    btn.setAttribute("aria-pressed", "false"); btn.textContent = "Record from microphone";
    try { await sendSpeech(new Blob(chunks, { type: chunks[0] ? chunks[0].type : "audio/webm" }), "recording.webm"); }
    catch (err) { showError($("speech-result"), err.message); }
  };
  recorder.start();
  btn.setAttribute("aria-pressed", "true"); btn.textContent = "Stop recording";
});

// ------------------------------------------------------------------------ faces
function showFaces(r, source) {
  const out = $("face-result");
  const p = r.predictions[0];
  if (p.error) return showError(out, p.error);
  const canvas = el("canvas", { id: "face-canvas", role: "img",
    "aria-label": p.faces.length ? p.faces.map((f, i) => `face ${i + 1}: ${f.label}`).join("; ") : "no face found" });
  canvas.width = source.width; canvas.height = source.height;
  const g = canvas.getContext("2d");
  g.drawImage(source, 0, 0);
  const lw = Math.max(2, Math.round(source.width / 300));
  p.faces.forEach((f, i) => {
    const [x, y, w, h] = f.box;
    g.lineWidth = lw; g.strokeStyle = colorOf(f.label); g.strokeRect(x, y, w, h);
    const fs = Math.max(12, Math.round(source.width / 45));
    g.font = `bold ${fs}px system-ui, sans-serif`;
    const text = `${i + 1} ${f.label} ${f.scores[f.label].toFixed(2)}`;
    const tw = g.measureText(text).width + 8;
    const lx = Math.max(0, Math.min(x, source.width - tw));  // the label stays inside the picture
    g.fillStyle = colorOf(f.label); g.fillRect(lx, Math.max(0, y - fs - 6), tw, fs + 6);
    g.fillStyle = "#fff"; g.fillText(text, lx + 4, Math.max(fs, y - 5));
  });
  const cards = p.faces.map((f, i) => el("div", { class: "card face-card" },
    el("h3", { text: `Face ${i + 1}: ${f.label}` }), bars(f.scores, 4)));
  out.replaceChildren(el("div", { class: "card" }, el("p", { class: "top",
    text: p.faces.length ? `${p.faces.length} face${p.faces.length > 1 ? "s" : ""}` : "No face found" }), canvas), ...cards);
}

async function sendImage(blob, name) {
  const form = new FormData();
  form.append("file", blob, name);
  const r = await call("/v1/face", { method: "POST", headers: headers(), body: form });
  const img = await createImageBitmap(blob, { imageOrientation: "from-image" });
  showFaces(r, img);
}

onFileSubmit("face", (f, name) => sendImage(f, name), "Analyse image", "Choose an image first.");

let camera = null;
$("camera").addEventListener("click", async () => {
  const view = $("camera-view");
  if (camera) { camera.getTracks().forEach((t) => t.stop()); camera = null; view.hidden = true; $("snap").hidden = true; $("camera").textContent = "Use webcam"; return; }
  if (!navigator.mediaDevices) return showError($("face-result"), "This browser cannot use a camera here (it needs https or localhost).");
  try { camera = await navigator.mediaDevices.getUserMedia({ video: true }); }
  catch (err) { return showError($("face-result"), "No camera: " + err.message); }
  view.srcObject = camera; view.hidden = false; await view.play();
  $("snap").hidden = false; $("camera").textContent = "Stop webcam";
});
$("snap").addEventListener("click", async () => {
  const view = $("camera-view"), c = document.createElement("canvas");
  c.width = view.videoWidth; c.height = view.videoHeight;
  c.getContext("2d").drawImage(view, 0, 0);
  const blob = await new Promise((res) => c.toBlob(res, "image/jpeg", 0.92));
  try { await sendImage(blob, "webcam.jpg"); } catch (err) { showError($("face-result"), err.message); }
});

// ------------------------------------------------------------------------ start
(async () => {
  try {
    const h = await call("/healthz");
    authRequired = h.auth_required;
    $("key-row").hidden = !authRequired;
    $("status").textContent = "Ready: " + h.models.join(", ") + (authRequired ? " (this server needs an API key)" : "");
    for (const t of tabs) $("tab-" + t).hidden = !h.modalities.includes(t);
    const first = tabs.find((t) => h.modalities.includes(t));
    if (first) select(first);
  } catch (err) {
    $("status").textContent = "The server is not answering: " + err.message;
    $("status").classList.add("error");
  }
})();
