// Browser notifications while the tab is hidden (after the user allows
// them), for messages, friend requests and file offers.

import { on, state, isGroup } from "./store.js";

export const notifyState = () => ("Notification" in window ? Notification.permission : "unsupported");

export async function askNotify() {
  if (notifyState() === "default") await Notification.requestPermission();
}

let started = false;

export function startNotifications() {
  if (started) return;
  started = true;
  on("notify", show);
  on("message", (m) => {
    if (m.outgoing) return;
    const where = isGroup(m.conversation) ? `${m.from} in ${m.conversation}` : m.from;
    show({ title: where, body: m.text.length > 140 ? m.text.slice(0, 140) + "…" : m.text, target: "/c/" + m.conversation, tag: m.conversation });
  });
}

function show(n) {
  if (!document.hidden || notifyState() !== "granted" || !state.me) return;
  try {
    const note = new Notification(n.title, { body: n.body, tag: n.tag || n.kind, icon: "icon.svg" });
    note.onclick = () => {
      window.focus();
      location.hash = "#" + n.target;
      note.close();
    };
  } catch { /* some browsers only allow notifications from a service worker */ }
}
