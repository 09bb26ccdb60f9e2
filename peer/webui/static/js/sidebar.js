// The left column: who is signed in, the app's sections, and the
// conversations list (friends and groups by last activity) with a filter
// box that Ctrl+K jumps to.

import { h, replace, icon, shortTime, ago, isZero, size } from "./dom.js";
import { state, on, conversations, isGroup, presenceOf, held, unreadTotal, roomOf } from "./store.js";
import { avatar } from "./avatars.js";

// presenceText says a contact's presence in words.
export function presenceText(p) {
  if (!p) return "";
  if (p.status === "online") return "online";
  if (p.status === "away") return "away";
  if (p.last_seen && !isZero(p.last_seen)) return `offline, last seen ${ago(new Date(p.last_seen))}`;
  return "offline";
}

export function presenceDot(p) {
  return h("span.dot", { class: p ? p.status : "none", "aria-hidden": "true" });
}

export function mountSidebar(root) {
  const meBtn = h("a.me", { href: "#/profile" });
  const reqBadge = h("span.badge", { hidden: true });
  const invBadge = h("span.badge", { hidden: true });
  const nav = h("div.navrow",
    h("a.iconbtn", { href: "#/friends", title: "Friends", "aria-label": "Friends" }, icon("people"), reqBadge),
    h("a.iconbtn", { href: "#/groups", title: "Groups", "aria-label": "Groups" }, icon("group"), invBadge),
    h("a.iconbtn", { href: "#/rooms", title: "Room directory", "aria-label": "Room directory" }, icon("hash")),
    h("a.iconbtn", { href: "#/online", title: "Who is online", "aria-label": "Who is online" }, icon("online")),
    h("a.iconbtn", { href: "#/diagnostics", title: "Diagnostics", "aria-label": "Diagnostics" }, icon("pulse")));
  const filter = h("input.filter", {
    type: "search", placeholder: "Filter conversations (Ctrl+K)", "aria-label": "Filter conversations",
    autocomplete: "off", "aria-keyshortcuts": "Control+K",
  });
  const list = h("ul.convs", { role: "list", "aria-label": "Conversations" });
  const roomList = h("ul.convs", { role: "list", "aria-label": "Rooms" });
  const roomHead = h("h2.sidesub", h("span", "Rooms"),
    h("a.small", { href: "#/rooms", "aria-label": "Find or create a room" }, "Browse"));
  const roomsBox = h("div.roomsbox", roomHead, roomList);
  const empty = h("p.empty-list");
  replace(root, h("div.sidehead", meBtn, nav), h("div.filterrow", icon("search"), filter),
    h("div.sidelists", roomsBox, h("h2.sidesub", "Conversations"), list, empty));

  function drawMe() {
    const me = state.me || {};
    replace(meBtn, avatar(me.username || "?", me.avatar, { name: me.display_name }),
      h("span.who", h("strong", me.display_name || me.username || ""), h("small", me.display_name ? me.username : "Profile and account")));
    meBtn.setAttribute("aria-label", `Profile and account: ${me.username || ""}`);
  }

  function drawBadges() {
    const n = state.requests.incoming.length;
    reqBadge.hidden = !n;
    reqBadge.textContent = n;
    reqBadge.parentElement.setAttribute("aria-label", n ? `Friends, ${n} request${n > 1 ? "s" : ""}` : "Friends");
    const m = state.groups.invites.length;
    invBadge.hidden = !m;
    invBadge.textContent = m;
    invBadge.parentElement.setAttribute("aria-label", m ? `Groups, ${m} invitation${m > 1 ? "s" : ""}` : "Groups");
  }

  function draw() {
    const q = filter.value.trim().toLowerCase();
    const all = conversations();
    const items = all.filter((c) => !q || c.target.toLowerCase().includes(q) || (c.name || "").toLowerCase().includes(q));
    const focused = document.activeElement && document.activeElement.closest(".convs") ? document.activeElement.dataset.target : null;
    fill(list, items.filter((c) => !roomOf(c.target)));
    fill(roomList, items.filter((c) => roomOf(c.target)));
    roomList.hidden = !roomList.children.length;
    if (focused && !root.contains(document.activeElement)) {
      const el = root.querySelector(`a[data-target="${CSS.escape(focused)}"]`);
      if (el) el.focus();
    }
    const rooms = all.filter((c) => roomOf(c.target)).length;
    empty.textContent = all.length === rooms ? "No conversations yet: add a friend, create a group or join a room."
      : items.length === 0 ? `No conversation matches “${filter.value.trim()}”.` : "";
    const n = unreadTotal();
    document.title = (n ? `(${n}) ` : "") + "lanchat";
  }

  // fill puts the lines of items in ul, keeping the element of a
  // conversation whose line did not change, so that a click or the focus
  // is not lost to a redraw.
  function fill(ul, items) {
    const old = new Map([...ul.children].map((li) => [li.dataset.key, li]));
    const nodes = items.map((c) => {
      const li = item(c);
      const prev = old.get(li.dataset.key);
      return prev && prev.dataset.sig === li.dataset.sig ? prev : li;
    });
    if (nodes.length !== ul.children.length || nodes.some((n, i) => ul.children[i] !== n)) {
      ul.replaceChildren(...nodes);
    }
  }

  function item(c) {
    const group = isGroup(c.target);
    const p = group ? null : presenceOf(c.target);
    const isHeld = !group && held(c.target);
    const room = roomOf(c.target);
    const label = [c.target];
    if (room) label.push("room");
    if (!group && c.name && c.name !== c.target) label.push(c.name);
    if (c.unread) label.push(`${c.unread} unread`);
    if (isHeld) label.push("identity key changed");
    else if (p) label.push(presenceText(p));
    if (!group && !isHeld && state.friends.get(c.target)?.verified) label.push("verified");
    const prev = preview(c);
    if (prev) label.push(prev);
    const when = !isZero(c.last_activity) && c.last_activity ? shortTime(new Date(c.last_activity)) : "";
    const current = state.current === c.target;
    const av = group ? "" : state.friends.get(c.target)?.avatar || "";
    const sig = [label.join(", "), when, current, p ? p.status : "", group ? "" : c.name, av].join("|");
    return h("li", { "aria-label": label.join(", "), class: current ? "current" : "", dataset: { key: c.target, sig } },
      h("a.conv", { href: "#/c/" + encodeURIComponent(c.target), "aria-current": current ? "page" : null, dataset: { target: c.target },
        "aria-label": label.join(", ") },
        group ? h("span.avatar.group", { "aria-hidden": "true" }, "#")
          : avatar(c.target, av, { name: c.name, extra: presenceDot(p) }),
        h("span.body",
          h("span.line1", h("span.name", group ? c.target : (c.name || c.target)), h("span.time", when)),
          h("span.line2", h("span.preview", { class: isHeld ? "warn" : "" }, isHeld ? "Identity key changed" : prev),
            c.unread ? h("span.unread", { "aria-hidden": "true" }, c.unread > 99 ? "99+" : String(c.unread)) : null))));
  }

  filter.addEventListener("input", draw);
  filter.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      const first = root.querySelector(".convs a.conv");
      if (first) { first.click(); e.preventDefault(); }
    } else if (e.key === "ArrowDown") {
      const first = root.querySelector(".convs a.conv");
      if (first) { first.focus(); e.preventDefault(); }
    } else if (e.key === "Escape") {
      filter.value = "";
      draw();
    }
  });
  root.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    if (!e.target.closest || !e.target.closest(".convs")) return;
    const links = [...root.querySelectorAll(".convs a.conv")];
    const i = links.indexOf(document.activeElement);
    const next = e.key === "ArrowDown" ? links[i + 1] : (i > 0 ? links[i - 1] : filter);
    if (next) { next.focus(); e.preventDefault(); }
  });
  const onKey = (e) => {
    if ((e.ctrlKey || e.metaKey) && (e.key === "k" || e.key === "K")) {
      e.preventDefault();
      document.body.dataset.screen = "list";
      filter.focus();
      filter.select();
    }
  };
  document.addEventListener("keydown", onKey);

  const offs = [
    on("conversations", draw), on("friends", draw), on("route", draw), on("presence", draw),
    on("status", drawMe), on("requests", drawBadges), on("groups", drawBadges), on("transfers", draw),
    on("rooms", draw),
  ];
  drawMe(); drawBadges(); draw();
  return () => { offs.forEach((f) => f()); document.removeEventListener("keydown", onKey); };
}

export const initial = (s) => (s || "?").slice(0, 1).toUpperCase();

// preview is the list's second line: the latest message, or a file
// placeholder when a transfer is the latest thing.
function preview(c) {
  if (c.file) {
    const t = c.file;
    return `${t.direction === "send" ? "You sent" : "File"}: ${t.name} (${size(t.total)})`;
  }
  if (!c.preview) return "";
  if (isGroup(c.target) && c.from) return `${c.from === (state.me && state.me.username) ? "You" : c.from}: ${c.preview}`;
  return c.preview;
}
