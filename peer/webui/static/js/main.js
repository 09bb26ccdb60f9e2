// lanchat's web app: boots, signs in, and routes between the screens.
// Routes live in the URL's fragment: #/c/TARGET (a conversation),
// #/friends, #/groups, #/rooms (the directory), #/online, #/profile,
// #/diagnostics.

import { h, replace, icon } from "./dom.js";
import { events } from "./api.js";
import { state, on, emit, loadAll, loadStatus } from "./store.js";
import { handleEvent } from "./live.js";
import { mountAuth } from "./auth.js";
import { mountSidebar } from "./sidebar.js";
import { mountConversation } from "./conversation.js";
import { mountFriends } from "./friends.js";
import { mountGroups } from "./groups.js";
import { mountRooms } from "./rooms.js";
import { mountOnline } from "./online.js";
import { mountProfile } from "./profile.js";
import { mountDiagnostics } from "./diagnostics.js";
import { startNotifications } from "./notify.js";
import { startFocus } from "./focus.js";

const app = document.getElementById("app");
let stream = null;
let unmount = null;
let shell = null;

async function boot() {
  openStream();
  await loadStatus();
  if (!state.status) {
    const e = state.statusError;
    const noSession = e && e.code === "no_session";
    replace(app, h("div.boot", { role: "alert" },
      h("h1", "lanchat"),
      h("p", noSession ? "This page is not signed in to your lanchat daemon. Run lanchat ui to open it with a fresh sign-in link."
        : "The lanchat daemon is not answering. Start it (lanchat daemon); this page retries by itself.")));
    app.classList.remove("booting");
    app.removeAttribute("aria-busy");
    if (!noSession) setTimeout(boot, 3000);
    return;
  }
  app.classList.remove("booting");
  app.removeAttribute("aria-busy");
  if (state.status.logged_in) showShell();
  else showAuth();
}

function openStream() {
  if (stream) return;
  let wasOpen = false;
  stream = events(handleEvent, (open, closed) => {
    state.online = open;
    if (closed) {
      // Refused outright (a restarted daemon forgets the session): look
      // again in a moment, and say so if this page is signed out.
      stream.close();
      stream = null;
      setTimeout(async () => {
        await loadStatus();
        if (state.statusError && state.statusError.code === "no_session") { shell = null; boot(); } else openStream();
      }, 3000);
    }
    emit("online");
    // The stream has no replay: after a break, read everything again.
    if (open && wasOpen && state.status && state.status.logged_in) loadAll();
    if (open) wasOpen = true;
  });
}

function showAuth() {
  shell = null;
  if (unmount) unmount();
  unmount = mountAuth(app, () => {
    showShell();
  });
  document.title = "Sign in · lanchat";
}

function showShell() {
  if (unmount) unmount();
  unmount = null;
  const banner = h("div.banner", { role: "status", "aria-live": "polite", hidden: true });
  const sidebar = h("nav.sidebar", { "aria-label": "Conversations and settings" });
  const main = h("main.main", { id: "main" });
  const panel = h("aside.panel", { hidden: true });
  shell = { sidebar, main, panel, banner, view: null };
  replace(app, h("div.shell", banner, sidebar, main, panel));
  const offs = [
    mountSidebar(sidebar),
    on("status", updateBanner),
    on("online", updateBanner),
    on("signedout", async () => {
      await loadStatus();
      if (state.status && !state.status.logged_in) showAuth();
    }),
  ];
  startNotifications();
  startFocus();
  unmount = () => { offs.forEach((f) => f && f()); if (shell.view) shell.view(); };
  loadAll().then(route);
  updateBanner();
}

function updateBanner() {
  if (!shell) return;
  const b = shell.banner;
  if (!state.online) {
    replace(b, "The lanchat daemon is not answering; reconnecting…");
    b.hidden = false;
    b.className = "banner bad";
  } else if (state.status && !state.status.server_connected) {
    replace(b, "Server unreachable: messages to people on this LAN still go directly");
    b.hidden = false;
    b.className = "banner";
  } else {
    b.hidden = true;
  }
}

// route shows the screen the URL fragment names.
function route() {
  if (!shell) return;
  const hash = decodeURIComponent(location.hash.slice(1) || "/");
  if (shell.view) shell.view();
  shell.view = null;
  shell.panel.hidden = true;
  replace(shell.panel);
  let target = "";
  document.body.dataset.screen = "list";
  if (hash.startsWith("/c/")) {
    target = hash.slice(3);
    shell.view = mountConversation(shell.main, shell.panel, target);
    document.body.dataset.screen = "main";
  } else if (hash === "/friends") {
    shell.view = mountFriends(shell.main);
    document.body.dataset.screen = "main";
  } else if (hash === "/groups") {
    shell.view = mountGroups(shell.main);
    document.body.dataset.screen = "main";
  } else if (hash === "/rooms") {
    shell.view = mountRooms(shell.main);
    document.body.dataset.screen = "main";
  } else if (hash === "/online") {
    shell.view = mountOnline(shell.main);
    document.body.dataset.screen = "main";
  } else if (hash === "/profile") {
    shell.view = mountProfile(shell.main, signedOut);
    document.body.dataset.screen = "main";
  } else if (hash === "/diagnostics") {
    shell.view = mountDiagnostics(shell.main);
    document.body.dataset.screen = "main";
  } else {
    replace(shell.main, emptyMain());
  }
  state.current = target;
  emit("route", hash);
}

function emptyMain() {
  const hasAny = state.friends.size || state.groups.groups.length || state.recent.length || state.rooms.some((r) => r.joined);
  return h("section.empty", { "aria-label": "Welcome" },
    h("h1", state.me ? `Hello, ${state.me.display_name || state.me.username}` : "Hello"),
    hasAny
      ? h("p", "Pick a conversation on the left, or press Ctrl+K to jump to one.")
      : h("p", "No conversations yet: add a friend, create a group or join a room."),
    h("p.actions",
      h("a.button", { href: "#/friends" }, icon("people"), "Friends"),
      h("a.button", { href: "#/groups" }, icon("group"), "Groups"),
      h("a.button", { href: "#/rooms" }, icon("hash"), "Rooms"),
      h("a.button", { href: "#/online" }, icon("online"), "Who is online")));
}

function signedOut() {
  state.me = null;
  state.friends = new Map();
  state.recent = [];
  location.hash = "";
  loadStatus().then(showAuth);
}

on("signout", signedOut);
window.addEventListener("hashchange", route);
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && shell && !shell.panel.hidden) {
    emit("closepanel");
  }
});
boot();
