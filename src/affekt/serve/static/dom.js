// Shared by affekt's pages (affekt serve's and affekt annotate's): small DOM helpers. No libraries.
"use strict";

const $ = (id) => document.getElementById(id);

// el("p", {class: "x", text: "hi"}, child, ...): an element with attributes and children
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}
