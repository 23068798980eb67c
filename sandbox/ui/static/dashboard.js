// The wa-sandbox dashboard: every form or button marked data-call sends its JSON to that control-plane route and
// shows the answer; every element marked data-live re-reads its fragment. Plain JavaScript, no build step.
"use strict";

function setPath(target, path, value) {
  // A numeric key is an array index: `messages.sent_delay.0` is the first half of a span.
  const keys = path.split(".");
  let node = target;
  keys.slice(0, -1).forEach((key, index) => { node = node[key] ??= /^\d+$/.test(keys[index + 1]) ? [] : {}; });
  node[keys[keys.length - 1]] = value;
}

function getPath(source, path) {
  return path.split(".").reduce((node, key) => (node == null ? undefined : node[key]), source);
}

// Forms generated from the control plane's description (sandbox/ui/forms.py): each input names its JSON path.
function numberOr(text) {
  return text !== "" && !Number.isNaN(Number(text)) ? Number(text) : text;
}

function valueOf(field) {
  const type = field.dataset.type;
  if (type === "boolean") return field.checked;
  const text = field.value.trim();
  if (text === "") return undefined;
  if (type === "number") return numberOr(text);
  if (type === "numbers") return text.split(/[\s,]+/).filter(Boolean).map(numberOr);
  if (type === "strings") {
    const pairs = {};
    for (const line of text.split("\n")) {
      const at = line.indexOf(":");
      if (line.trim()) pairs[(at < 0 ? line : line.slice(0, at)).trim()] = at < 0 ? "" : line.slice(at + 1).trim();
    }
    return pairs;
  }
  return field.value;
}

function changed(field) {
  if (field.type === "checkbox") return field.checked !== field.defaultChecked;
  if (field.tagName === "SELECT") return [...field.options].some((o) => o.selected !== o.defaultSelected);
  return field.value !== field.defaultValue;
}

function describedFields(form) {
  // `changed`: only the knobs edited since the page loaded (each sent whole); `given`: every field filled in.
  const fields = [...form.querySelectorAll("[data-path]")];
  if (form.dataset.fields !== "changed") return fields.filter((f) => f.type !== "checkbox" || f.checked);
  const parts = new Set(fields.filter(changed).map((f) => f.dataset.part));
  return fields.filter((f) => parts.has(f.dataset.part));
}

function describedBody(form) {
  const body = {};
  for (const field of describedFields(form)) {
    const value = valueOf(field);
    if (value !== undefined) setPath(body, field.dataset.path, value);
  }
  return body;
}

function placeError(form, message) {
  // A refusal names its field first (`messages.sent_delay must be ...`): shown beside the longest path it names.
  let best = null;
  for (const out of form.querySelectorAll("output[data-error-for]")) {
    const path = out.dataset.errorFor;
    if (path && message.startsWith(path) && /^[\s.([]/.test(message.slice(path.length))
      && (!best || path.length > best.dataset.errorFor.length)) best = out;
  }
  if (!best) return;
  best.textContent = message;
  const field = best.closest(".field, fieldset");
  for (const input of field.querySelectorAll("[data-path]")) input.setAttribute("aria-invalid", "true");
  const first = field.querySelector("[data-path]");
  if (first) first.focus();
}

function clearErrors(form) {
  for (const out of form.querySelectorAll("output[data-error-for]")) out.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

function settle(form) {
  // What was applied is the new starting point: the next Apply sends only what changes after it.
  for (const field of form.querySelectorAll("[data-path]")) {
    if (field.type === "checkbox") field.defaultChecked = field.checked;
    else if (field.tagName === "SELECT") for (const o of field.options) o.defaultSelected = o.selected;
    else field.defaultValue = field.value;
  }
}

function bodyOf(form, submitter) {
  if (submitter && submitter.dataset.body) return submitter.dataset.body;
  const raw = form.querySelector("textarea[data-json]");
  if (raw) return raw.value;
  if (form.dataset.fields) return JSON.stringify(describedBody(form));
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
  const parts = form.dataset.fields === "changed" ? [...new Set(describedFields(form).map((f) => f.dataset.part))] : null;
  if (parts && !parts.length) return show(form, "Nothing changed in this group.", true);
  if (form.dataset.fields) clearErrors(form);
  let answer;
  try {
    const response = await fetch(url, {
      method, body, credentials: "same-origin", headers: body ? {"Content-Type": "application/json"} : {},
    });
    answer = await answered(response, `${method} ${url}`, parts);
  } catch (error) {
    answer = {ok: false, text: `${method} ${url} failed: ${error}`};
  }
  show(form, answer.text, answer.ok);
  if (!answer.ok && answer.message && form.dataset.fields) placeError(form, answer.message);
  if (answer.ok && parts) settle(form);
  if (answer.ok) {
    for (const name of (form.dataset.reset || "").split(" ").filter(Boolean)) form.elements[name].value = "";
    if (form.dataset.then === "reload") setTimeout(() => location.reload(), 600);
    refreshAll();
  }
}

async function answered(response, what, parts) {
  // The answer as it came (JSON on one line), or, for a changed-only form, the values it now holds for those knobs.
  const text = await response.text();
  let shown = text;
  let message = null;
  try {
    const json = JSON.parse(text);
    message = json && json.error ? json.error.message : null;
    shown = JSON.stringify(parts && response.ok ? Object.fromEntries(parts.map((p) => [p, getPath(json, p)])) : json);
  } catch (_) { /* not JSON: shown as it came */ }
  return {ok: response.ok, message, text: `${response.status} ${what}: ${shown.slice(0, 600)}`};
}

async function upload(form) {
  // A file chosen in the browser, sent as its bytes with its type (POST .../inbound/media), as a script would.
  const file = form.elements.file.files[0];
  if (!file) return show(form, "Choose a file first.", false);
  const query = new URLSearchParams({from: form.dataset.from, filename: file.name});
  for (const name of ["type", "caption", "context_message_id"]) {
    if (form.elements[name] && form.elements[name].value) query.set(name, form.elements[name].value);
  }
  const url = `${form.dataset.upload}?${query}`;
  let answer;
  try {
    const response = await fetch(url, {
      method: "POST", body: file, credentials: "same-origin",
      headers: {"Content-Type": file.type || "application/octet-stream"},
    });
    answer = await answered(response, `POST ${form.dataset.upload}`, null);
  } catch (error) {
    answer = {ok: false, text: `POST ${url} failed: ${error}`};
  }
  show(form, answer.text, answer.ok);
  if (answer.ok) refreshAll();
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.upload) {
    event.preventDefault();
    upload(form);
    return;
  }
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
