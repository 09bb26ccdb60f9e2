// "Who is online": the users online (and, on request, offline with when
// they were last seen) among the user's contacts and the members of the
// rooms and groups they share, or in one room. The server lists nobody
// the user shares nothing with. Presence events re-read it at once;
// otherwise it is read again when the window regains focus and every
// 30 seconds while shown.

import { h, replace } from "./dom.js";
import { get } from "./api.js";
import { state, on } from "./store.js";
import { presenceText, presenceDot } from "./sidebar.js";
import { avatar } from "./avatars.js";

const EVERY = 30000; // ms between reads while nothing else prompts one

// poller calls read now and then: on window focus and every EVERY ms while
// the page is visible, never two at once. It returns the function that
// stops it.
export function poller(read) {
  let running = false;
  const tick = async () => {
    if (running || document.visibilityState !== "visible") return;
    running = true;
    try { await read(); } finally { running = false; }
  };
  const iv = setInterval(tick, EVERY);
  window.addEventListener("focus", tick);
  return () => { clearInterval(iv); window.removeEventListener("focus", tick); };
}

export function mountOnline(root) {
  const which = h("select", { "aria-label": "Show who is online in" });
  const offline = h("input", { type: "checkbox", id: "online-all" });
  const note = h("p.hint", { "aria-live": "polite" });
  const list = h("ul.members", { "aria-label": "Who is online" }, h("li.skeleton", "Reading who is online…"));
  replace(root, h("section.page", { "aria-labelledby": "online-title" },
    h("header.page-head", h("a.iconbtn.back", { href: "#/", "aria-label": "Back to conversations" }, "←"), h("h1#online-title", "Who is online")),
    h("p.hint", "Your friends and the people in your groups and rooms. Nobody else's presence is shown to you, nor yours to them."),
    h("div.filters", which, h("label.check", offline, " Show offline people too")),
    note, list));

  function drawChoices() {
    const cur = which.value;
    const rooms = state.rooms.filter((r) => r.joined).map((r) => r.name).sort();
    replace(which, h("option", { value: "" }, "Everyone I share something with"),
      rooms.map((n) => h("option", { value: n }, "#" + n)));
    which.value = rooms.includes(cur) ? cur : "";
  }

  let seq = 0;
  async function read() {
    const my = ++seq;
    const params = new URLSearchParams();
    if (which.value) params.set("room", which.value);
    if (offline.checked) params.set("all", "true");
    let r;
    try {
      r = await get("/v1/online" + (params.size ? "?" + params : ""));
    } catch (e) {
      if (my === seq) note.textContent = e.message;
      return;
    }
    if (my !== seq) return;
    const users = r.users || [];
    const me = state.me ? state.me.username : "";
    const n = users.filter((u) => u.presence.status !== "offline" && u.username !== me).length;
    note.textContent = `${n} online` + (which.value ? ` in #${which.value}` : "") + (r.truncated ? " (the first 1,000 shown)" : "");
    replace(list, users.length ? users.map((u) => {
      const you = u.username === me;
      const words = you ? "you" : presenceText(u.presence);
      return h("li", { "aria-label": `${u.username}${u.display_name ? ` (${u.display_name})` : ""}${u.friend ? ", friend" : ""}, ${words}` },
        avatar(u.username, u.avatar, { name: u.display_name, labelled: true, extra: presenceDot(u.presence) }),
        h("span.mname", u.display_name ? `${u.display_name} (${u.username})` : u.username, u.friend ? h("small", " friend") : null),
        h("span.mstate", words),
        u.friend && !you ? h("a.button.small", { href: "#/c/" + encodeURIComponent(u.username), "aria-label": `Message ${u.username}` }, "Message") : null);
    }) : h("li.hint", offline.checked ? "Nobody to show: add a friend or join a room." : "Nobody is online right now."));
  }

  let t;
  const soon = () => { clearTimeout(t); t = setTimeout(read, 400); };
  which.addEventListener("change", read);
  offline.addEventListener("change", read);
  const offs = [on("presence", soon), on("rooms", drawChoices), on("friends", soon), poller(read), () => clearTimeout(t)];
  drawChoices();
  read();
  which.focus();
  return () => offs.forEach((f) => f());
}
