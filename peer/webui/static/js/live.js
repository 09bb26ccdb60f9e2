// The event stream's events applied to the app's state (docs/api.md,
// "Event stream"). Unknown types are ignored.

import {
  state, emit, loadStatus, refreshRecent, refreshFriends, refreshGroups, refreshRequests, refreshRooms, refreshRoomCounts,
} from "./store.js";

export function handleEvent(ev) {
  switch (ev.type) {
    case "message":
      state.lastFrom.set(ev.message.conversation, ev.message.from);
      emit("message", ev.message);
      refreshRecent();
      break;
    case "message.state":
      emit("message.state", ev.message);
      break;
    case "message.changed":
      emit("message.changed", ev.message);
      break;
    case "typing": {
      const from = (ev.typing && ev.typing.from) || ev.from;
      if (from) emit("typing", from);
      break;
    }
    case "presence": {
      const p = ev.presence;
      const f = state.friends.get(p.user);
      if (f) f.presence = p.presence;
      emit("presence", p);
      emit("conversations");
      if (state.rooms.some((r) => r.joined)) refreshRoomCounts();
      break;
    }
    case "friend.request":
      refreshRequests();
      emit("notify", { kind: "friend", title: "Friend request", body: `${ev.friend.display_name || ev.friend.user} wants to be your friend`, target: "/friends" });
      break;
    case "profile":
    case "friend.accepted":
    case "friend.removed":
      refreshFriends();
      refreshRequests();
      break;
    case "group":
      if (ev.group.group && ev.group.group.room) refreshRooms();
      refreshGroups();
      refreshRecent();
      emit("group", ev.group);
      break;
    case "key.changed":
      // restored: the pinned key is back, and nothing is held any more.
      if (ev.key_change.restored) state.keyChanged.delete(ev.key_change.user);
      else state.keyChanged.add(ev.key_change.user);
      refreshFriends();
      emit("keychange", ev.key_change);
      break;
    case "server":
      if (state.status) state.status.server_connected = ev.connection.up;
      emit("status");
      loadStatus();
      break;
    case "peer": {
      const f = state.friends.get(ev.connection.peer);
      if (f) f.direct = ev.connection.up;
      emit("presence", { user: ev.connection.peer });
      break;
    }
    case "lan":
      emit("lan", ev.connection);
      break;
    case "signed_out":
      emit("signedout", ev.text);
      break;
    case "transfer": {
      const t = ev.transfer;
      const old = state.transfers.get(t.id);
      state.transfers.set(t.id, t);
      emit("transfer", t);
      if (!old) {
        emit("conversations");
        if (t.direction === "receive" && t.state === "offered") {
          emit("notify", { kind: "file", title: `File offer from ${t.peer}`, body: `${t.name} (${t.files} file${t.files === 1 ? "" : "s"})`, target: "/c/" + (t.group || t.peer) });
        }
      }
      break;
    }
  }
}
