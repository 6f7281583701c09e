// affekt annotate's page: one item at a time against this server's /api. No libraries, no CDN.
// An answer is kept in this browser (localStorage) until the server says it is stored: a refresh,
// a lost connection or a restarted server loses nothing, the page sends it again (same answer_id:
// the server stores it once).
"use strict";

const DIMS = [
  ["valence", "Valence", "unpleasant", "pleasant"],
  ["arousal", "Arousal", "calm", "excited"],
  ["dominance", "Dominance", "controlled", "in control"],
];
let project = null;      // /api/project
let who = null;          // what the annotator typed (a name, or a token)
let current = null;      // the item on screen
let shownAt = 0;         // performance.now() when it was shown
let selected = new Set();
let notApplicable = false;
let busy = false;
let offline = false;
let shownOnce = false;   // the instructions open by themselves before a new annotator's first item

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function setStatus(text, isError) {
  const s = $("status");
  s.textContent = text;
  s.className = isError ? "offline" : "";
}

async function api(path, body) {
  let r;
  const opts = body === undefined ? { cache: "no-store" }
    : { method: "POST", cache: "no-store", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  try {
    r = await fetch(path, opts);
  } catch (e) {
    throw new HttpError(0, "the server cannot be reached");
  }
  let data = null;
  try {
    data = await r.json();
  } catch (e) {  // a body cut short (the server stopped while answering) is a connection lost
    if (r.ok) throw new HttpError(0, "the answer of the server was cut short");
  }
  if (!r.ok) throw new HttpError(r.status, (data && data.error) || ("HTTP " + r.status));
  return data;
}

// Call fn until the server answers (it may be restarting); other errors are thrown.
async function persist(fn, waiting) {
  let wait = 250;
  for (;;) {
    try {
      const out = await fn();
      if (offline) { offline = false; setStatus(readyLine()); }
      return out;
    } catch (e) {
      if (!(e.status === 0 || e.status === 502 || e.status === 503 || e.status === 504)) throw e;
      offline = true;
      setStatus("The server is not reachable: " + waiting + " Retrying…", true);
      await sleep(wait);
      wait = Math.min(wait * 2, 2000);
    }
  }
}

// ------------------------------------------------------------------ answers kept in the browser
const storeKey = (what) => "affekt-annotate:" + project.project_id + ":" + what;

function pending() {
  try { return JSON.parse(localStorage.getItem(storeKey("pending"))) || []; } catch (e) { return []; }
}

function setPending(list) {
  localStorage.setItem(storeKey("pending"), JSON.stringify(list));
}

function newId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replaceAll("-", "");
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// Send every kept answer; resolves with the error of a refused one (or null).
async function flush() {
  let refused = null;
  for (let list = pending(); list.length; list = pending()) {
    const a = list[0];
    try {
      await persist(() => api("/api/answer", a), "your answer is kept in this browser and will be sent.");
    } catch (e) {
      refused = e;
    }
    setPending(pending().filter((x) => x.answer_id !== a.answer_id));
  }
  return refused;
}

// ------------------------------------------------------------------ the page
function readyLine() {
  return "Labelling as " + (current && current.annotator || who) + ". Answers are saved the moment you submit.";
}

function buildForm() {
  const sc = project.scheme;
  $("project-line").textContent = "Project " + project.name + ": " + project.items + " items, "
    + project.k + " answer" + (project.k === 1 ? "" : "s") + " each.";
  if (project.instructions) {
    $("instructions-text").textContent = project.instructions;
    $("instructions").hidden = false;
  }
  if (project.tokens) {
    $("annotator-label").textContent = "Your token";
    $("signin-note").textContent = "Enter the token you were given for this project.";
  }
  if (sc.labels.length) {
    $("labels-box").hidden = false;
    $("labels-legend").textContent = sc.multi ? "Labels (all that apply)" : "Label (one)";
    const box = $("labels");
    sc.labels.forEach((lab, i) => {
      const key = i < 9 ? String(i + 1) : i === 9 ? "0" : null;
      const b = el("button", { type: "button", class: "label-btn", "aria-pressed": "false", "data-label": lab },
        key ? el("kbd", { text: key }) : null, key ? " " : null, lab);
      b.addEventListener("click", () => toggle(lab));
      box.append(b);
    });
    if (!sc.multi) box.setAttribute("role", "group");
  }
  if (sc.vad) {
    $("vad-box").hidden = false;
    for (const [dim, title, lo, hi] of DIMS) {
      const input = el("input", { type: "range", id: "vad-" + dim, min: "1", max: "9", step: "1", value: "5",
                                  class: "unset", "aria-valuetext": "not set" });
      const out = el("output", { id: "vad-" + dim + "-value", for: "vad-" + dim, text: "–" });
      input.addEventListener("input", () => setDim(dim, input.value));
      $("vad").append(el("label", { for: "vad-" + dim, text: title }), input, out,
        el("div", { class: "ends", "aria-hidden": "true" }, el("span", { text: "1 " + lo }), el("span", { text: hi + " 9" })));
    }
  }
  $("unsure-box").hidden = !sc.unsure;
  $("na").hidden = !sc.not_applicable;
  $("na").addEventListener("click", () => setNA(!notApplicable));
}

function setDim(dim, value) {
  const input = $("vad-" + dim);
  input.value = String(value);
  input.classList.remove("unset");
  input.dataset.set = "true";
  input.setAttribute("aria-valuetext", String(value));
  $("vad-" + dim + "-value").textContent = String(value);
  $("answer-error").textContent = "";
}

function toggle(label) {
  if (notApplicable || !current) return;
  if (project.scheme.multi) {
    if (selected.has(label)) selected.delete(label); else selected.add(label);
  } else {
    selected = new Set(selected.has(label) ? [] : [label]);
  }
  for (const b of document.querySelectorAll(".label-btn")) {
    b.setAttribute("aria-pressed", selected.has(b.dataset.label) ? "true" : "false");
  }
  $("answer-error").textContent = "";
}

function setNA(on) {
  notApplicable = on;
  $("na").setAttribute("aria-pressed", on ? "true" : "false");
  $("labels-box").disabled = on;
  $("vad-box").disabled = on;
  $("answer-error").textContent = "";
}

function resetAnswer() {
  selected = new Set();
  for (const b of document.querySelectorAll(".label-btn")) {
    b.setAttribute("aria-pressed", "false");
    b.classList.remove("suggested");
  }
  for (const [dim] of DIMS) {
    const input = $("vad-" + dim);
    if (!input) continue;
    input.value = "5";
    input.classList.add("unset");
    delete input.dataset.set;
    input.setAttribute("aria-valuetext", "not set");
    $("vad-" + dim + "-value").textContent = "–";
  }
  $("unsure").checked = false;
  setNA(false);
  $("answer-error").textContent = "";
}

function show(section) {
  for (const id of ["signin", "work", "done"]) $(id).hidden = id !== section;
}

function render(data) {
  const p = data.progress;
  $("who").textContent = "Labelling as " + data.annotator + ".";
  $("switch").hidden = false;
  if (data.done) {
    current = null;
    $("item").removeAttribute("data-item");
    show("done");
    setStatus("Labelling as " + data.annotator + ": " + p.answered + " answer" + (p.answered === 1 ? "" : "s")
      + " saved.");
    return;
  }
  current = Object.assign({ annotator: data.annotator }, data.item);
  const box = $("item");
  if (current.kind === "text") {
    box.replaceChildren(el("p", { class: "item-text", text: current.text }));
  } else {
    const media = current.kind === "image" ? el("img", { src: current.src, alt: "The image to label" })
      : el("audio", { src: current.src, controls: "", preload: "auto", "aria-label": "The recording to label" });
    const src = current.src, id = current.id;
    media.addEventListener("error", () => retryMedia(media, src, id));
    box.replaceChildren(media);
  }
  box.dataset.item = current.id;
  resetAnswer();
  const sug = current.suggestion || [];
  $("suggestion").hidden = !sug.length;
  if (sug.length) {
    $("suggestion").textContent = "A model suggests: " + sug.join(", ") + " (decide for yourself).";
    for (const b of document.querySelectorAll(".label-btn")) if (sug.includes(b.dataset.label)) b.classList.add("suggested");
  }
  $("progress").textContent = p.answered + " answered by you · " + p.open + " open for you · "
    + p.complete + " of " + p.items + " items complete";
  if (!shownOnce && project.instructions && p.answered === 0) $("instructions").open = true;
  shownOnce = true;
  show("work");
  setStatus(readyLine());
  shownAt = performance.now();
}

// The server may be restarting: try the file again a few times, then say so.
async function retryMedia(media, src, id) {
  const tries = Number(media.dataset.tries || 0) + 1;
  media.dataset.tries = String(tries);
  if (tries > 20) {
    $("answer-error").textContent = "This item's file cannot be loaded (moved or deleted?): tell whoever runs "
      + "this project.";
    return;
  }
  await sleep(Math.min(500 * tries, 3000));
  if (current && current.id === id) media.src = src + "&retry=" + tries;
}

async function loadNext() {
  try {
    const data = await persist(() => api("/api/next", { annotator: who }), "waiting for the next item.");
    render(data);
  } catch (e) {
    signOut(e.message);
  }
}

function signOut(message) {
  current = null;
  localStorage.removeItem(storeKey("annotator"));
  $("signin-error").textContent = message || "";
  $("who").textContent = "";
  $("switch").hidden = true;
  show("signin");
  setStatus(message ? "Not signed in." : "Enter your " + (project.tokens ? "token" : "name") + " to start.", !!message);
  $("annotator").focus();
}

function collect() {
  const sc = project.scheme;
  const a = { answer_id: newId(), annotator: who, item: current.id,
              duration_ms: Math.max(0, Math.round(performance.now() - shownAt)) };
  if (sc.unsure) a.unsure = $("unsure").checked;
  if (notApplicable) {
    a.not_applicable = true;
    a.labels = [];
    return a;
  }
  if (sc.labels.length) {
    if (!selected.size) throw new Error(sc.multi ? "Choose one or more labels." : "Choose a label.");
    a.labels = sc.labels.filter((l) => selected.has(l));
  }
  if (sc.vad) {
    for (const [dim, title] of DIMS) {
      const input = $("vad-" + dim);
      if (!input.dataset.set) throw new Error("Set " + title.toLowerCase() + " (1 to 9).");
      a[dim] = Number(input.value);
    }
  }
  return a;
}

async function submit() {
  if (busy || !current) return;
  let a;
  try {
    a = collect();
  } catch (e) {
    $("answer-error").textContent = e.message;
    return;
  }
  busy = true;
  $("submit").disabled = true;
  setStatus("Saving…");
  try {
    setPending(pending().concat([a]));
    const refused = await flush();
    if (refused && refused.status !== 409) {
      $("answer-error").textContent = "Not saved: " + refused.message;
      setStatus(readyLine());
      return;
    }
    if (refused) setStatus(refused.message);
    await loadNext();
  } finally {
    busy = false;
    $("submit").disabled = false;
  }
}

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || !current || $("work").hidden) return;
  const t = e.target;
  if (t && t.tagName === "INPUT" && t.type === "text") return;
  if (e.key === "Enter") {
    e.preventDefault();
    submit();
    return;
  }
  if (/^[0-9]$/.test(e.key)) {
    if (t && t.tagName === "INPUT" && t.type === "range") {
      if (e.key !== "0") { e.preventDefault(); setDim(t.id.slice(4), e.key); }
      return;
    }
    const i = e.key === "0" ? 9 : Number(e.key) - 1;
    const lab = project.scheme.labels[i];
    if (lab !== undefined) { e.preventDefault(); toggle(lab); }
    return;
  }
  const k = e.key.toLowerCase();
  if (k === "u" && project.scheme.unsure) { e.preventDefault(); $("unsure").checked = !$("unsure").checked; }
  if (k === "n" && project.scheme.not_applicable) { e.preventDefault(); setNA(!notApplicable); }
}

async function main() {
  try {
    project = await persist(() => api("/api/project"), "connecting.");
  } catch (e) {
    setStatus("This page cannot load its project: " + e.message, true);
    return;
  }
  buildForm();
  $("answer-form").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  $("signin").addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = $("annotator").value.trim();
    if (!v) { $("signin-error").textContent = "Enter your " + (project.tokens ? "token" : "name") + "."; return; }
    who = v;
    localStorage.setItem(storeKey("annotator"), who);
    $("signin-error").textContent = "";
    await loadNext();
  });
  $("switch").addEventListener("click", (e) => { e.preventDefault(); signOut(""); });
  document.addEventListener("keydown", onKey);
  const fromUrl = new URLSearchParams(location.search).get("annotator");
  if (fromUrl && fromUrl.trim()) localStorage.setItem(storeKey("annotator"), fromUrl.trim());
  who = localStorage.getItem(storeKey("annotator"));
  if (pending().length) {
    setStatus("Sending answers kept in this browser…");
    const refused = await flush();
    if (refused && refused.status !== 409) setStatus("An answer kept in this browser was refused: " + refused.message, true);
  }
  if (who) await loadNext(); else signOut("");
}

main();
