// The app's copy of what the daemon said, refreshed from the API and kept
// live by the event stream. Views subscribe to topics and redraw their
// part when one changes.

import { get, seg } from "./api.js";
import { debounce, isZero } from "./dom.js";

export const state = {
  status: null,          // GET /v1/status
  statusError: null,     // why the last status call failed
  me: null,              // the logged-in user
  friends: new Map(),    // username → friend
  recent: [],            // GET /v1/recent
  groups: { groups: [], invites: [] },
  rooms: [],             // GET /v1/rooms?q=: the directory, "joined" marks the user's
  requests: { incoming: [], outgoing: [] },
  transfers: new Map(),  // id → transfer
  keyChanged: new Set(), // users whose key changed (key.changed events)
  online: true,          // the event stream is open
  current: "",           // the open conversation's target
  lastFrom: new Map(),   // conversation → sender of its latest message seen live
};

const subs = new Map();

// on calls fn whenever topic is emitted; it returns a function that stops.
export function on(topic, fn) {
  if (!subs.has(topic)) subs.set(topic, new Set());
  subs.get(topic).add(fn);
  return () => subs.get(topic).delete(fn);
}

export function emit(topic, arg) {
  for (const fn of subs.get(topic) || []) {
    try { fn(arg); } catch (e) { console.error(topic, e); }
  }
}

// quiet runs a refresh and ignores failures: the old data stays shown.
async function quiet(fn) {
  try { await fn(); } catch (e) { if (e.code === "not_logged_in") emit("signedout"); }
}

export const loadStatus = async () => {
  try {
    state.status = await get("/v1/status");
    state.statusError = null;
  } catch (e) {
    state.statusError = e;
    return;
  }
  if (state.status.me) state.me = { ...state.me, ...state.status.me };
  emit("status");
};

export const loadFriends = () => quiet(async () => {
  const fs = await get("/v1/friends");
  state.friends = new Map(fs.map((f) => [f.username, f]));
  emit("friends");
  emit("conversations");
});

export const loadRecent = () => quiet(async () => {
  state.recent = await get("/v1/recent");
  emit("conversations");
});

export const loadGroups = () => quiet(async () => {
  state.groups = await get("/v1/groups");
  emit("groups");
  emit("conversations");
});

export const loadRooms = () => quiet(async () => {
  const r = await get("/v1/rooms");
  state.rooms = r.rooms || [];
  emit("rooms");
  emit("conversations");
});

export const loadRequests = () => quiet(async () => {
  state.requests = await get("/v1/friends/requests");
  emit("requests");
});

export const loadTransfers = () => quiet(async () => {
  const ts = await get("/v1/transfers");
  state.transfers = new Map(ts.map((t) => [t.id, t]));
  emit("transfers");
  emit("conversations");
});

export const refreshRecent = debounce(loadRecent, 80);
export const refreshFriends = debounce(loadFriends, 150);
export const refreshGroups = debounce(loadGroups, 150);
export const refreshRequests = debounce(loadRequests, 150);
export const refreshRooms = debounce(loadRooms, 150);
// refreshRoomCounts re-reads the directory for its online counts after
// presence changes: once 2 s after the first change, however busy the
// rooms are, so at most once every 2 s.
let countsTimer = null;
export function refreshRoomCounts() {
  if (countsTimer) return;
  countsTimer = setTimeout(() => { countsTimer = null; loadRooms(); }, 2000);
}

// loadAll re-reads everything, after sign-in and whenever the event stream
// (re)opens: the stream does not replay what was missed.
export async function loadAll() {
  await Promise.all([loadStatus(), loadFriends(), loadRecent(), loadGroups(), loadRooms(), loadRequests(), loadTransfers()]);
  emit("reloaded");
}

// markRead reads the newest message of a conversation, which marks it read
// on the daemon, then refreshes the unread counts.
export async function markRead(target) {
  try { await get(`/v1/conversations/${seg(target)}/messages?limit=1`); } catch { /* shown elsewhere */ }
  loadRecent();
}

// conversations merges recent conversations, friends, groups and the
// peers of pending file offers into one list, the most recent first.
export function conversations() {
  const seen = new Map();
  for (const c of state.recent) seen.set(c.target, { ...c, from: c.preview_from || state.lastFrom.get(c.target) || "" });
  for (const f of state.friends.values()) {
    if (!seen.has(f.username)) seen.set(f.username, { target: f.username, name: f.display_name || f.username, last_activity: "", unread: 0, preview: "" });
  }
  for (const g of state.groups.groups) {
    const t = "#" + g.name;
    if (!seen.has(t)) seen.set(t, { target: t, name: t, last_activity: "", unread: 0, preview: "" });
  }
  for (const r of state.rooms) {
    const t = "#" + r.name;
    if (r.joined && !seen.has(t)) seen.set(t, { target: t, name: t, last_activity: "", unread: 0, preview: "" });
  }
  for (const t of state.transfers.values()) {
    const target = t.group || t.peer;
    if (!seen.has(target)) seen.set(target, { target, name: target, last_activity: t.updated, unread: 0, preview: "" });
  }
  // A room the user left (or never joined) with nothing in it is noise.
  for (const r of state.rooms) {
    const c = seen.get("#" + r.name);
    if (!r.joined && c && isZero(c.last_activity)) seen.delete("#" + r.name);
  }
  const list = [...seen.values()];
  // A transfer is activity too: it moves the conversation up.
  for (const t of state.transfers.values()) {
    const c = seen.get(t.group || t.peer);
    if (c && (isZero(c.last_activity) || t.created > c.last_activity)) {
      c.last_activity = t.created;
      c.preview = c.preview || "";
      c.file = t;
    }
  }
  list.sort((a, b) => (b.last_activity || "").localeCompare(a.last_activity || "") || a.target.localeCompare(b.target));
  return list;
}

// isGroup reports whether a target names a group.
export const isGroup = (t) => t.startsWith("#");

// roomOf returns the directory entry of a room the user is in, by target
// ("#coffee"), or undefined for any other conversation.
export const roomOf = (t) => t.startsWith("#") ? state.rooms.find((r) => r.joined && "#" + r.name === t) : undefined;

// byPresence orders users online first, then away, then offline, then by
// name: member lists and the online panel.
const rank = { online: 0, away: 1, offline: 2 };
export const byPresence = (a, b) =>
  (rank[a.presence?.status] ?? 3) - (rank[b.presence?.status] ?? 3) || a.username.localeCompare(b.username);

// presenceOf returns a contact's presence as last heard, if known.
export function presenceOf(user) {
  const f = state.friends.get(user);
  return f ? f.presence : null;
}

// held reports whether a contact's key changed and is not trusted yet.
export function held(user) {
  const f = state.friends.get(user);
  return (f && f.held) || state.keyChanged.has(user);
}

// unreadTotal is the sum of unread counts, for the tab title.
export const unreadTotal = () => state.recent.reduce((n, c) => n + (c.unread || 0), 0);
