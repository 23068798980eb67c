// The wa-sandbox dashboard: every form or button marked data-call sends its JSON to that control-plane route and
// shows the answer; every element marked data-live re-reads its fragment. Plain JavaScript, no build step.
"use strict";

function setPath(target, path, value) {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) node = node[key] ??= {};
  node[keys[keys.length - 1]] = value;
}

function bodyOf(form, submitter) {
  if (submitter && submitter.dataset.body) return submitter.dataset.body;
  const raw = form.querySelector("textarea[data-json]");
  if (raw) return raw.value;
  const body = {};
  for (const field of form.elements) {
    if (!field.name || field.type === "submit" || field.value === "") continue;
    setPath(body, field.name, field.dataset.type === "number" ? Number(field.value) : field.value);
  }
  if (submitter && submitter.name) setPath(body, submitter.name, submitter.value);
  return Object.keys(body).length ? JSON.stringify(body) : undefined;
}

function show(form, text, ok) {
  // A form inside a live fragment shows its answer outside it (data-out), where the next refresh leaves it.
  const out = (form.dataset.out && document.getElementById(form.dataset.out))
    || form.querySelector("output[data-result]") || document.getElementById("toast");
  out.textContent = text;
  out.className = ok ? "ok" : "refused";
}

async function call(form, submitter) {
  const url = (submitter && submitter.dataset.url) || (submitter && submitter.dataset.call) || form.dataset.call;
  const method = (submitter && submitter.dataset.method) || form.dataset.method || "POST";
  const body = method === "GET" || method === "DELETE" ? undefined : bodyOf(form, submitter);
  let answer;
  try {
    const response = await fetch(url, {
      method, body, credentials: "same-origin", headers: body ? {"Content-Type": "application/json"} : {},
    });
    const text = await response.text();
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text)); } catch (_) { /* not JSON: shown as it came */ }
    answer = {ok: response.ok, text: `${response.status} ${method} ${url}: ${shown.slice(0, 600)}`};
  } catch (error) {
    answer = {ok: false, text: `${method} ${url} failed: ${error}`};
  }
  show(form, answer.text, answer.ok);
  if (answer.ok) {
    for (const name of (form.dataset.reset || "").split(" ").filter(Boolean)) form.elements[name].value = "";
    if (form.dataset.then === "reload") setTimeout(() => location.reload(), 600);
    refreshAll();
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.dataset.call) return;
  event.preventDefault();
  call(form, event.submitter);
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.type === "button" && button.dataset.call) call(button.form || button.closest("form"), button);
  if (button.dataset.copy) copy(document.getElementById(button.dataset.copy).textContent, button);
  if (button.dataset.reply) {
    for (const input of document.querySelectorAll("input[data-fill-last]")) input.value = button.dataset.reply;
  }
});

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
    const area = Object.assign(document.createElement("textarea"), {value: text});
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  const label = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = label; }, 1200);
}

async function refresh(region) {
  // Never swap a fragment under someone typing in it.
  if (region.contains(document.activeElement) && document.activeElement.matches("input, textarea, select")) return;
  try {
    const response = await fetch(region.dataset.live, {credentials: "same-origin"});
    if (!response.ok) return;
    const html = await response.text();
    if (html !== region.dataset.shown) {
      region.dataset.shown = html;
      region.innerHTML = html;
      fillLast();
    }
  } catch (_) { /* the server is restarting: the next tick tries again */ }
}

function refreshAll() {
  for (const region of document.querySelectorAll("[data-live]")) refresh(region);
}

function fillLast() {
  const last = document.querySelector("[data-last-outgoing]");
  if (!last) return;
  for (const input of document.querySelectorAll("input[data-fill-last]")) {
    if (!input.value || input.dataset.filled === input.value) {
      input.value = input.dataset.filled = last.dataset.lastOutgoing;
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  fillLast();
  for (const region of document.querySelectorAll("[data-live]")) {
    setInterval(() => refresh(region), Number(region.dataset.every || 1000));
  }
});
