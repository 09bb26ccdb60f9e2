// Avatars: a user's picture, served by the daemon on the app's own origin
// (GET /v1/avatars/{user}: the CSP allows same-origin images), or, when
// there is none, their initials on a circle whose colour comes from the
// username, so that a person has the same colour in every list and on
// every machine.

import { h } from "./dom.js";
import { BASE, seg } from "./api.js";

const COLOURS = 8; // .av0 … .av7 in app.css

// colourOf is a stable colour index for a username (FNV-1a of its code
// units).
export function colourOf(user) {
  let x = 0x811c9dc5;
  for (let i = 0; i < user.length; i++) {
    x ^= user.charCodeAt(i);
    x = Math.imul(x, 0x01000193) >>> 0;
  }
  return x % COLOURS;
}

// initials are the first letters of the first and last words of a name:
// "Alice Liddell" → "AL", "bob" → "B".
export function initials(name) {
  const words = (name || "?").trim().split(/[\s._-]+/).filter(Boolean);
  if (!words.length) return "?";
  const first = [...words[0]][0];
  const last = words.length > 1 ? [...words[words.length - 1]][0] : "";
  return (first + last).toUpperCase();
}

// avatarURL is where the daemon serves user's avatar; the id in the query
// makes a new picture a new URL.
export const avatarURL = (user, id) => `${BASE}/v1/avatars/${seg(user)}?v=${encodeURIComponent(id)}`;

// avatar makes user's avatar: the picture when id (the avatar's id from
// the API) is set, else the initials of name (or the username). With
// labelled, it is an image named after the user (for the conversation
// header and member lists); without, it is decorative, for places whose
// own label names the user already. extra children (a presence dot) go
// inside.
export function avatar(user, id, { name, labelled, extra } = {}) {
  const el = h("span.avatar", labelled ? null : { "aria-hidden": "true" });
  const showInitials = () => {
    el.classList.add("initials", "av" + colourOf(user));
    el.prepend(initials(name || user));
    if (labelled) {
      el.setAttribute("role", "img");
      el.setAttribute("aria-label", user);
    }
  };
  if (id) {
    const img = h("img", { src: avatarURL(user, id), alt: labelled ? user : "", decoding: "async" });
    // A picture the daemon no longer has falls back to the initials.
    img.addEventListener("error", () => { img.remove(); showInitials(); }, { once: true });
    el.append(img);
  } else {
    showInitials();
  }
  if (extra) el.append(extra);
  return el;
}
