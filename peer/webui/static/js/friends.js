// Friends: search the directory as you type and send requests; incoming
// requests with accept, reject or later; outgoing ones to withdraw; the
// friend list with presence and remove.

import { h, replace, ago } from "./dom.js";
import { get, post, seg } from "./api.js";
import { state, on, loadFriends, loadRequests, loadRecent } from "./store.js";
import { presenceText, presenceDot } from "./sidebar.js";

export function mountFriends(root) {
  const later = new Set(); // requests put off for now (they stay pending)
  const q = h("input", { type: "search", id: "user-search", placeholder: "Search by username or name", autocomplete: "off", autocapitalize: "off" });
  const found = h("ul.rows", { "aria-label": "Search results" });
  const note = h("p.hint", { "aria-live": "polite" });
  const incoming = h("div");
  const outgoing = h("div");
  const friends = h("div");
  const msg = h("p.form-error", { role: "alert" });
  replace(root, h("section.page", { "aria-labelledby": "friends-title" },
    h("header.page-head", h("a.iconbtn.back", { href: "#/", "aria-label": "Back to conversations" }, "←"), h("h1#friends-title", "Friends")),
    msg,
    h("section", { "aria-label": "Find people" },
      h("h2", h("label", { for: "user-search" }, "Find people")), q, note, found),
    incoming, outgoing, friends));

  async function act(user, action) {
    msg.textContent = "";
    try {
      const r = await post(`/v1/friends/${seg(user)}/${action}`);
      if (action === "add") msg.textContent = r.status === "accepted" ? `You and ${user} are now friends.` : `Friend request sent to ${user}.`;
    } catch (e) {
      msg.textContent = e.message;
    }
    await Promise.all([loadFriends(), loadRequests(), loadRecent()]);
    search();
  }

  let seq = 0;
  async function search() {
    const text = q.value.trim();
    const my = ++seq;
    if (!text) { replace(found); note.textContent = ""; return; }
    let users;
    try { users = await get(`/v1/users?q=${encodeURIComponent(text)}&limit=20`); } catch (e) { if (my === seq) note.textContent = e.message; return; }
    if (my !== seq) return;
    note.textContent = users.length ? "" : `Nobody's name starts with “${text}”.`;
    const me = state.me ? state.me.username : "";
    const out = new Set(state.requests.outgoing.map((r) => r.user));
    const inc = new Set(state.requests.incoming.map((r) => r.user));
    replace(found, users.map((u) => h("li", { "aria-label": "User " + u.username + (u.display_name ? ", " + u.display_name : "") },
      h("span.rname", u.username, u.display_name ? h("small", " " + u.display_name) : null),
      u.username === me ? h("span.hint", "you")
        : state.friends.has(u.username) ? h("a.button.small", { href: "#/c/" + encodeURIComponent(u.username) }, "Message")
          : out.has(u.username) ? h("span.hint", "request sent")
            : h("button.small.primary", { type: "button", "aria-label": `${inc.has(u.username) ? "Accept" : "Add"} ${u.username}`, onclick: () => act(u.username, inc.has(u.username) ? "accept" : "add") }, inc.has(u.username) ? "Accept" : "Add friend"))));
  }
  let t;
  q.addEventListener("input", () => { clearTimeout(t); t = setTimeout(search, 200); });

  function draw() {
    const inc = state.requests.incoming.filter((r) => !later.has(r.user));
    replace(incoming, state.requests.incoming.length ? h("section", { "aria-label": "Requests to you" },
      h("h2", "Requests to you"),
      inc.length ? h("ul.rows", inc.map((r) => h("li", { "aria-label": `Request from ${r.user}, ${ago(new Date(r.at))}` },
        h("span.rname", r.user, r.display_name ? h("small", " " + r.display_name) : null, h("small.hint", " asked " + ago(new Date(r.at)))),
        h("span.btns",
          h("button.small.primary", { type: "button", "aria-label": `Accept ${r.user}`, onclick: () => act(r.user, "accept") }, "Accept"),
          h("button.small", { type: "button", "aria-label": `Reject ${r.user}`, onclick: () => act(r.user, "reject") }, "Reject"),
          h("button.small", { type: "button", "aria-label": `Later for ${r.user}`, onclick: () => { later.add(r.user); draw(); } }, "Later"))))) : null,
      later.size ? h("p.hint", `${later.size} put off for later: they stay pending. `,
        h("button.link", { type: "button", onclick: () => { later.clear(); draw(); } }, "Show them")) : null) : null);
    replace(outgoing, state.requests.outgoing.length ? h("section", { "aria-label": "Your requests" },
      h("h2", "Your requests"),
      h("ul.rows", state.requests.outgoing.map((r) => h("li", { "aria-label": `Your request to ${r.user}, waiting` },
        h("span.rname", r.user, h("small.hint", " sent " + ago(new Date(r.at)))),
        h("button.small", { type: "button", "aria-label": `Withdraw request to ${r.user}`, onclick: () => act(r.user, "reject") }, "Withdraw"))))) : null);
    const fs = [...state.friends.values()];
    replace(friends, h("section", { "aria-label": "Your friends" },
      h("h2", `Your friends (${fs.length})`),
      fs.length ? h("ul.rows", fs.map((f) => h("li", { "aria-label": `Friend ${f.username}, ${f.held ? "identity key changed" : presenceText(f.presence)}` },
        presenceDot(f.presence),
        h("a.rname", { href: "#/c/" + encodeURIComponent(f.username) }, f.username, f.display_name ? h("small", " " + f.display_name) : null),
        h("span.hint", f.held ? "identity key changed" : presenceText(f.presence) + (f.verified ? " · verified" : "")),
        removeBtn(f.username))))
        : h("p.hint", "No friends yet: search for someone above and add them.")));
  }

  function removeBtn(user) {
    const b = h("button.small", { type: "button", "aria-label": `Remove ${user} from friends` }, "Remove");
    b.addEventListener("click", () => {
      if (b.dataset.armed) { act(user, "remove"); return; }
      b.dataset.armed = "1";
      b.textContent = "Press again to remove";
      setTimeout(() => { delete b.dataset.armed; b.textContent = "Remove"; }, 4000);
    });
    return b;
  }

  const offs = [on("requests", draw), on("friends", draw), on("presence", draw)];
  // Fresh from the server: a friend's new display name shows here.
  loadRequests();
  loadFriends();
  draw();
  q.focus();
  return () => offs.forEach((f) => f());
}
