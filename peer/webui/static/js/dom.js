// Small DOM helpers. Text from other users is only ever set with
// textContent (through h's string children): never as HTML.

// h makes an element: h("button.primary", {type: "button", onclick: f}, "Send");
// "h1#title" gives it an id.
// Attributes starting with "on" become listeners; "class", "text" and
// "dataset" are handled specially; null, false and undefined are skipped.
export function h(tag, attrs, ...children) {
  const [head, ...classes] = tag.split(".");
  const [name, id] = head.split("#");
  const el = document.createElement(name || "div");
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(" ");
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = (el.className ? el.className + " " : "") + v;
    else if (k === "text") el.textContent = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value" || k === "checked" || k === "disabled" || k === "hidden") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// replace swaps an element's children for new ones.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// svg icons are built from path data kept in this file: no markup strings.
const ICONS = {
  send: "M3 20l18-8L3 4v6l12 2-12 2z",
  attach: "M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5",
  emoji: "M12 21a9 9 0 1 1 0-18 9 9 0 0 1 0 18zM8.5 14.5a4.5 4.5 0 0 0 7 0M9 9.5h.01M15 9.5h.01",
  search: "M10.5 17a6.5 6.5 0 1 1 0-13 6.5 6.5 0 0 1 0 13zM15.5 15.5L21 21",
  people: "M9 11a4 4 0 1 1 0-8 4 4 0 0 1 0 8zM2 21v-1a6 6 0 0 1 12 0v1M16 3.5a4 4 0 0 1 0 7.5M22 21v-1a6 6 0 0 0-4-5.6",
  group: "M4 6h16M4 12h16M4 18h10",
  user: "M12 12a4.5 4.5 0 1 1 0-9 4.5 4.5 0 0 1 0 9zM4 21a8 8 0 0 1 16 0",
  pulse: "M3 12h4l3-8 4 16 3-8h4",
  back: "M15 5l-7 7 7 7",
  close: "M6 6l12 12M18 6L6 18",
  shield: "M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z",
  folder: "M3 6h6l2 2h10v11H3z",
  plus: "M12 5v14M5 12h14",
  check: "M5 12l5 5L20 7",
  hash: "M9 3L7 21M17 3l-2 18M4 8.5h17M3 15.5h17",
  online: "M12 15a3 3 0 1 1 0-6 3 3 0 0 1 0 6zM6.3 17.7a8 8 0 0 1 0-11.4M17.7 6.3a8 8 0 0 1 0 11.4",
  mic: "M12 14a3 3 0 0 1-3-3V6a3 3 0 0 1 6 0v5a3 3 0 0 1-3 3zM5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21",
  image: "M4 5h16v14H4zM4 16l5-5 4 4 2-2 5 5M15.5 9.5h.01",
};

export function icon(name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon");
  const p = document.createElementNS(ns, "path");
  p.setAttribute("d", ICONS[name] || "");
  svg.appendChild(p);
  return svg;
}

// linkify turns text into text nodes, <a> for http(s) links and <code> for
// `backticked` spans, all built with createElement and textContent.
export function linkify(text) {
  const out = [];
  const re = /(`[^`\n]+`)|(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'])/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
    if (m[1]) out.push(h("code", { text: m[1].slice(1, -1) }));
    else out.push(h("a", { href: m[2], target: "_blank", rel: "noopener noreferrer", text: m[2] }));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

const units = ["B", "KiB", "MiB", "GiB", "TiB"];

// size formats a byte count: "48.2 MiB".
export function size(n) {
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + " " + units[i];
}

// duration formats seconds as "1 h 3 min", "4 min 10 s" or "12 s".
export function duration(s) {
  s = Math.max(0, Math.round(s));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
const shortFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export const clock = (d) => timeFmt.format(d);
export const fullTime = (d) => fullFmt.format(d);

// dayKey is a local calendar day, for day separators.
export const dayKey = (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;

// dayLabel says "Today", "Yesterday" or the date.
export function dayLabel(d) {
  const now = new Date();
  if (dayKey(d) === dayKey(now)) return "Today";
  const y = new Date(now); y.setDate(now.getDate() - 1);
  if (dayKey(d) === dayKey(y)) return "Yesterday";
  return dayFmt.format(d);
}

// shortTime is the list's time column: the time today, else the date.
export function shortTime(d) {
  return dayKey(d) === dayKey(new Date()) ? timeFmt.format(d) : shortFmt.format(d);
}

// ago says how long ago: "5 min ago".
export function ago(d) {
  const s = (Date.now() - d.getTime()) / 1000;
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `on ${shortFmt.format(d)}`;
}

// zeroTime reports the API's zero time ("0001-01-01T00:00:00Z").
export const isZero = (t) => !t || t.startsWith("0001-");

// debounce calls fn once, ms after the last call.
export function debounce(fn, ms) {
  let t;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}
