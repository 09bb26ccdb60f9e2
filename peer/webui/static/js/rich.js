// What a message carries besides its text (docs/api.md, "Message"): the
// quote of a reply, a picture's thumbnail or a voice message's length
// and waveform, the edited (with its versions) and recalled marks, the
// mention mark, reactions with counts
// (a click toggles one's own), and who read an outgoing message.

import { h } from "./dom.js";
import { call } from "./api.js";
import { picture, voice, openVersions } from "./media.js";

// quote is the excerpt of the message a reply answers.
export function quote(m) {
  const q = m.reply;
  if (!q) return null;
  return h("blockquote.quote", { title: "In reply to " + q.from },
    h("span.from", q.from), " ", q.excerpt || `(${q.kind})`);
}

// media shows a picture's thumbnail (a button that opens the full
// picture), or a voice message's waveform, length and player.
export function media(m) {
  const md = m.media;
  if (!md) return null;
  if (m.kind === "image") return md.thumb ? picture(m) : null;
  return voice(m);
}

// marks says a message was edited (a button that lists every version) or
// recalled; a recalled one hidden by the user's setting has no text left.
export function marks(m) {
  const out = [];
  if (m.edited) {
    out.push(h("button.mark.edited", {
      type: "button", "aria-haspopup": "dialog", "aria-label": "Edited: show every version",
      title: "Edited " + new Date(m.edited).toLocaleString() + ": show every version", onclick: () => openVersions(m),
    }, "(edited)"));
  }
  if (m.recalled) out.push(h("span.mark.recalled", m.text ? "Recalled by the sender" : "Recalled by the sender (hidden)"));
  return out.length ? h("div.marks", ...out) : null;
}

// mention marks a message that mentions the user (@name).
export function mention(m) {
  return m.mentioned ? h("span.mention-mark", { role: "img", "aria-label": "Mentions you", title: "Mentions you" }, "@") : null;
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
