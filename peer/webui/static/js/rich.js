// What a message carries besides its text (docs/api.md, "Message"): the
// quote of a reply, a picture's thumbnail or a voice message's length
// and waveform, the edited and recalled marks, reactions with counts
// (a click toggles one's own), and who read an outgoing message.

import { h } from "./dom.js";
import { call } from "./api.js";

// quote is the excerpt of the message a reply answers.
export function quote(m) {
  const q = m.reply;
  if (!q) return null;
  return h("blockquote.quote", { title: "In reply to " + q.from },
    h("span.from", q.from), " ", q.excerpt || `(${q.kind})`);
}

// media shows a picture's thumbnail, or a voice message's waveform.
export function media(m) {
  const md = m.media;
  if (!md) return null;
  if (m.kind === "image" && md.thumb) {
    return h("figure.pic", h("img", {
      src: "data:image/jpeg;base64," + md.thumb, alt: md.name,
      width: md.width > md.height ? 320 : Math.round(320 * md.width / Math.max(md.height, 1)),
      title: `${md.name} (${md.width}×${md.height})`,
    }));
  }
  const s = Math.round((md.duration_ms || 0) / 1000);
  const bars = (md.waveform || []).map((v) => h("span.bar", { style: `height:${Math.max(2, Math.round(v / 8))}px` }));
  return h("div.voice", { title: md.name }, h("span.wave", { "aria-hidden": "true" }, ...bars),
    ` ${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`);
}

// marks says a message was edited or recalled; a recalled one hidden by
// the user's setting has no text left.
export function marks(m) {
  const out = [];
  if (m.edited) out.push(h("span.mark.edited", { title: "Edited " + new Date(m.edited).toLocaleString() }, "(edited)"));
  if (m.recalled) out.push(h("span.mark.recalled", m.text ? "Recalled by the sender" : "Recalled by the sender (hidden)"));
  return out.length ? h("div.marks", ...out) : null;
}

// reactions are chips of emoji with their counts; a click toggles the
// user's own.
export function reactions(m) {
  if (!m.reactions || !m.reactions.length) return null;
  return h("div.reactions", ...m.reactions.map((r) => h("button.reaction", {
    type: "button", title: r.users.join(", "),
    onclick: () => call("POST", `/v1/messages/${m.id}/react`, { emoji: r.emoji }).catch(() => {}),
  }, `${r.emoji} ${r.count}`)));
}

// readMark says who read an outgoing message.
export function readMark(m) {
  if (!m.read_by || !m.read_by.length) return null;
  const all = m.read_by.length >= (m.recipients || 1);
  return h("span.read", { title: "Read by " + m.read_by.join(", ") },
    all ? "Read" : `Read by ${m.read_by.length} of ${m.recipients}`);
}
