// The room directory: find a room by name, see its topic and how many
// are in it and online, join it without an invitation, or create one.

import { h, replace } from "./dom.js";
import { get, post } from "./api.js";
import { state, on, emit, loadRooms, loadRecent } from "./store.js";
import { field, showError, busy } from "./form.js";
import { poller } from "./online.js";

const plural = (n, one) => `${n} ${one}${n === 1 ? "" : "s"}`;

export function mountRooms(root) {
  const q = h("input", { type: "search", "aria-label": "Search rooms", placeholder: "Search rooms by name", autocomplete: "off" });
  const note = h("p.hint", { "aria-live": "polite" });
  const err = h("p.form-error", { role: "alert" });
  const list = h("ul.rows", { "aria-label": "Room directory" });
  const name = field("Room name", { name: "name", autocomplete: "off", autocapitalize: "off", hint: "1–32 letters, digits, dots, dashes or underscores. Anyone on the server can find and join it." });
  const topic = field("Topic (optional)", { name: "topic", autocomplete: "off" });
  const createErr = h("p.form-error", { role: "alert" });
  const create = h("form", { "aria-label": "Create a room" }, name.row, topic.row, h("button.primary", { type: "submit" }, "Create room"), createErr);
  replace(root, h("section.page", { "aria-labelledby": "rooms-title" },
    h("header.page-head", h("a.iconbtn.back", { href: "#/", "aria-label": "Back to conversations" }, "←"), h("h1#rooms-title", "Rooms")),
    h("p.hint", "Rooms are open: anyone on this server can find them here and join without an invitation. Messages stay end-to-end encrypted to the members; people who join later do not see earlier messages."),
    h("form.searchform", { role: "search", onsubmit: (e) => { e.preventDefault(); read(); } }, q),
    note, err, list,
    h("h2", "New room"), create));

  let rooms = null; // the directory as last read for this query
  let seq = 0;
  async function read() {
    const my = ++seq;
    const query = q.value.trim().replace(/^#/, "");
    let r;
    try {
      r = await get("/v1/rooms" + (query ? "?q=" + encodeURIComponent(query) : ""));
    } catch (e) {
      if (my === seq) note.textContent = e.message;
      return;
    }
    if (my !== seq) return;
    rooms = r.rooms || [];
    if (!query) { state.rooms = rooms; emit("conversations"); }
    note.textContent = rooms.length === 0 ? (query ? `No room starts with “${query}”: create it below.` : "No rooms yet: create the first one below.")
      : plural(rooms.length, "room") + (r.truncated ? " shown; more match, type more of the name" : "");
    draw();
  }

  function draw() {
    if (!rooms) { replace(list, h("li.skeleton", "Reading the directory…")); return; }
    const joined = new Set(state.rooms.filter((x) => x.joined).map((x) => x.name));
    // Keep the element of a room whose line did not change, so that a
    // click or the focus is not lost to a refresh.
    const old = new Map([...list.children].map((li) => [li.dataset.sig, li]));
    const nodes = rooms.map((r) => {
      const isIn = r.joined || joined.has(r.name);
      const label = [`#${r.name}`, plural(r.members, "member"), `${r.online} online`];
      if (r.lobby) label.push("everyone's room");
      if (r.topic) label.push(`topic: ${r.topic}`);
      if (isIn) label.push("joined");
      if (r.banned) label.push("you are banned");
      const sig = label.join(", ");
      if (old.has(sig)) return old.get(sig);
      const href = "#/c/" + encodeURIComponent("#" + r.name);
      return h("li", { "aria-label": sig, dataset: { sig } },
        h("span.rname", isIn ? h("a", { href }, "#" + r.name) : "#" + r.name,
          h("small.hint", ` ${plural(r.members, "member")} · ${r.online} online${r.lobby ? " · everyone's room" : ""}`),
          r.topic ? h("span.rtopic", r.topic) : null),
        h("span.btns", isIn
          ? h("a.button.small", { href, "aria-label": `Open #${r.name}` }, "Open")
          : h("button.small.primary", { type: "button", "aria-label": `Join #${r.name}`, onclick: (e) => join(r.name, e.currentTarget) }, "Join")));
    });
    if (nodes.length !== list.children.length || nodes.some((n, i) => list.children[i] !== n)) list.replaceChildren(...nodes);
  }

  async function join(room, btn) {
    err.textContent = "";
    try {
      await busy(btn.parentElement, () => post("/v1/rooms/join", { name: room }));
    } catch (e) {
      err.textContent = `Could not join #${room}: ${e.message}`;
      return;
    }
    await Promise.all([loadRooms(), loadRecent()]);
    location.hash = "#/c/" + encodeURIComponent("#" + room);
  }

  create.addEventListener("submit", async (e) => {
    e.preventDefault();
    const n = name.input.value.trim().replace(/^#/, "");
    if (!n) { showError([name, topic], createErr, { code: "invalid", field: "name", message: "Room name is required." }); return; }
    let g;
    try {
      g = await busy(create, () => post("/v1/rooms/create", { name: n, topic: topic.input.value.trim() }));
    } catch (er) {
      showError([name, topic], createErr, er.code === "conflict" ? { ...er, field: "name" } : er);
      return;
    }
    await Promise.all([loadRooms(), loadRecent()]);
    location.hash = "#/c/" + encodeURIComponent("#" + g.name);
  });

  let t;
  q.addEventListener("input", () => { clearTimeout(t); t = setTimeout(read, 250); });
  const stop = poller(read);
  const offs = [on("rooms", draw), stop, () => clearTimeout(t)];
  draw();
  read();
  q.focus();
  return () => offs.forEach((f) => f());
}
