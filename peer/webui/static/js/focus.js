// Tells the daemon which conversation this tab shows (POST /v1/focus), so
// that its desktop notifications stay quiet for what the user is reading:
// the open conversation while the tab is visible. The daemon forgets a
// focus after 60 s, so it is renewed while it lasts, and dropped when the
// user leaves the conversation, hides the tab or closes it.
// document.body.dataset.focus is what the daemon was last told.

import { on, state } from "./store.js";
import { BASE } from "./api.js";

const CLIENT = "web-" + crypto.randomUUID();
const RENEW_MS = 30000;

let told = "";
let started = false;

function send(conversation, open) {
  return fetch(BASE + "/v1/focus", {
    method: "POST",
    credentials: "same-origin",
    keepalive: true,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ client: CLIENT, conversation, open }),
  }).then((res) => res.ok, () => false);
}

async function sync() {
  const want = document.visibilityState === "visible" && state.me ? state.current || "" : "";
  if (want === told) return;
  const was = told;
  told = want;
  // Opening one conversation ends this tab's focus on any other.
  const ok = want ? await send(want, true) : await send(was, false);
  if (ok && told === want) document.body.dataset.focus = want;
}

export function startFocus() {
  if (started) return;
  started = true;
  on("route", sync);
  document.addEventListener("visibilitychange", sync);
  window.addEventListener("pagehide", () => {
    if (told) send(told, false);
    told = "";
  });
  setInterval(() => {
    if (told) send(told, true);
  }, RENEW_MS);
  sync();
}
