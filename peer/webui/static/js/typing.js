// Typing, in one-to-one conversations (docs/api.md, "POST /v1/typing"):
// while the user types, the daemon is told at most once per SEND_GAP; a
// "typing" event from the other user shows "alice is typing…" until
// SHOW_FOR after the last one. Nothing of it is stored.

import { h } from "./dom.js";
import { post } from "./api.js";
import { on } from "./store.js";

const SEND_GAP = 3000;
const SHOW_FOR = 5000;

// missing is set once the daemon answers that it has no typing call.
let missing = false;

// typingSender returns the composer's input listener for a conversation
// with user to.
export function typingSender(to) {
  let last = 0;
  return (e) => {
    const now = Date.now();
    if (missing || !e.target.value || now - last < SEND_GAP) return;
    last = now;
    post("/v1/typing", { to }).catch((err) => { if (err.status === 404 || err.status === 405) missing = true; });
  };
}

// typingLine is the line that says who is typing in the conversation
// with target: {el, stop}.
export function typingLine(target) {
  const el = h("p.typing", { role: "status", "aria-label": "Who is typing" });
  let timer = 0;
  const clear = () => { el.textContent = ""; };
  const off = on("typing", (from) => {
    if (from !== target) return;
    el.textContent = `${from} is typing…`;
    clearTimeout(timer);
    timer = setTimeout(clear, SHOW_FOR);
  });
  // A message from them ends their typing.
  const off2 = on("message", (m) => { if (m.conversation === target && m.from === target) { clearTimeout(timer); clear(); } });
  return { el, stop: () => { off(); off2(); clearTimeout(timer); } };
}
