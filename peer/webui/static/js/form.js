// Forms: labelled fields with an error line under each, and a way to put
// an API error under the field it is about.

import { h } from "./dom.js";

let seq = 0;

// field makes a labelled input; it returns {row, input, setError}.
export function field(label, attrs = {}) {
  const id = "f" + ++seq;
  const errId = id + "-err";
  const input = h(attrs.multiline ? "textarea" : "input", { id, "aria-describedby": errId, ...attrs, multiline: null });
  const err = h("p.field-error", { id: errId, "aria-live": "polite" });
  const hint = attrs.hint ? h("p.hint", attrs.hint) : null;
  input.removeAttribute("hint");
  const row = h("div.field", h("label", { for: id }, label), input, hint, err);
  return {
    row, input, name: attrs.name || "",
    setError(msg) {
      err.textContent = msg || "";
      if (msg) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    },
  };
}

// Words in an error message that name a field, for errors that do not
// carry the field's name themselves.
const hints = [
  ["new", /\bnew password\b/i],
  ["old", /\b(old|current) password\b|wrong password/i],
  ["username", /\busername|user name\b/i],
  ["password", /\bpassword\b/i],
  ["display_name", /\bdisplay name\b/i],
  ["email", /\be-?mail\b/i],
  ["phone", /\bphone\b/i],
  ["name", /\bgroup name\b|\bname\b/i],
];

// showError puts err under the field it is about (by err.field, else by
// the words of its message), else in the form's own error line. It
// returns the field it chose, or null.
export function showError(fields, formErr, err) {
  for (const f of fields) f.setError("");
  formErr.textContent = "";
  const byName = new Map(fields.map((f) => [f.name, f]));
  let f = err.field && byName.get(err.field);
  if (!f && err.code === "invalid") {
    for (const [name, re] of hints) {
      if (byName.has(name) && re.test(err.message)) { f = byName.get(name); break; }
    }
  }
  if (f) {
    const label = f.row.querySelector("label").textContent.replace(/ \(optional\)$/, "");
    // "is not an e-mail address" reads as "Email is not an e-mail address".
    const m = err.message;
    const msg = m.toLowerCase().startsWith(label.toLowerCase()) ? m
      : /^(is|must|has|should|may|cannot|can't|needs)\b/.test(m) ? `${label} ${m}` : `${label}: ${m}`;
    f.setError(msg);
    f.input.focus();
    return f;
  }
  formErr.textContent = err.message;
  return null;
}

// busy disables a form's controls while a call runs.
export async function busy(form, fn) {
  const els = [...form.querySelectorAll("button, input, textarea, select")];
  const was = els.map((e) => e.disabled);
  els.forEach((e) => { e.disabled = true; });
  form.setAttribute("aria-busy", "true");
  try { return await fn(); } finally {
    els.forEach((e, i) => { e.disabled = was[i]; });
    form.removeAttribute("aria-busy");
  }
}
