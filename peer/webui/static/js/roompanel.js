// A room's side panel: its topic (set by the owner and admins), its
// members online first, and for the owner and admins naming admins,
// kicking, banning and unbanning; leaving.

import { h, replace } from "./dom.js";
import { post } from "./api.js";
import { loadRooms, loadRecent } from "./store.js";
import { field, showError, busy } from "./form.js";
import { readMembers, memberRow } from "./panels.js";

export async function openRoomMembers(panel, name) {
  const read = await readMembers(panel, name);
  if (!read) return;
  const { body, gm, me, members } = read;
  const owner = gm.group.owner === me;
  const mine = gm.members.find((m) => m.username === me);
  const admin = owner || Boolean(mine && mine.admin);
  const err = h("p.form-error", { role: "alert" });

  const btn = (label, text, action, user) => h("button.small", { type: "button", "aria-label": label,
    onclick: () => act(() => post(`/v1/rooms/${action}`, { name, user })) }, text);
  const list = h("ul.members", { "aria-label": "Members" }, members.map((m) => {
    const you = m.username === me;
    const role = m.owner ? "owner" : m.admin ? "admin" : "";
    // The owner manages everyone but themselves; an admin manages members
    // who are neither the owner nor an admin.
    const manage = !you && !m.owner && (owner || (admin && !m.admin));
    return memberRow(m, me, role,
      owner && !you ? (m.admin ? btn(`Remove ${m.username} as admin of #${name}`, "Unadmin", "unadmin", m.username)
        : btn(`Make ${m.username} an admin of #${name}`, "Make admin", "admin", m.username)) : null,
      manage ? btn(`Kick ${m.username} from #${name}`, "Kick", "kick", m.username) : null,
      manage ? btn(`Ban ${m.username} from #${name}`, "Ban", "ban", m.username) : null);
  }));

  const topicText = gm.group.topic || "";
  const parts = [h("p.rtopic", { "aria-label": "Topic" }, topicText || "No topic set.")];
  if (admin) {
    const topic = field("Topic", { name: "topic", autocomplete: "off", value: topicText });
    const topicErr = h("p.form-error", { role: "alert" });
    const topicForm = h("form.inline", { "aria-label": "Set the topic" }, topic.row, h("button", { type: "submit" }, "Set topic"), topicErr);
    topicForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await busy(topicForm, () => post("/v1/rooms/topic", { name, topic: topic.input.value.trim() }));
      } catch (er) { showError([topic], topicErr, er.code === "invalid" ? { ...er, field: "topic" } : er); return; }
      await loadRooms();
      openRoomMembers(panel, name);
    });
    parts.push(topicForm);
  }
  parts.push(h("h3", `${members.length} member${members.length === 1 ? "" : "s"}`), list);
  if (admin) {
    const who = field("Unban someone (username)", { name: "user", autocomplete: "off", autocapitalize: "off" });
    const unErr = h("p.form-error", { role: "alert" });
    const unForm = h("form.inline", { "aria-label": "Unban" }, who.row, h("button", { type: "submit" }, "Unban"), unErr);
    unForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const user = who.input.value.trim();
      if (!user) { who.setError("Username: type who to unban."); return; }
      try {
        await busy(unForm, () => post("/v1/rooms/unban", { name, user }));
      } catch (er) { showError([who], unErr, er.code === "invalid" || er.code === "not_found" ? { ...er, field: "user" } : er); return; }
      who.input.value = "";
      unErr.textContent = `${user} may join #${name} again.`;
    });
    parts.push(unForm);
  }
  const leave = h("button", { type: "button", onclick: async () => {
    if (!leave.dataset.armed) {
      // A second press confirms: no modal dialogs.
      leave.dataset.armed = "1";
      leave.textContent = `Leave #${name}? Press again to confirm`;
      setTimeout(() => { delete leave.dataset.armed; leave.textContent = "Leave room"; }, 4000);
      return;
    }
    try { await post("/v1/rooms/leave", { name }); } catch (e) { err.textContent = e.message; return; }
    await Promise.all([loadRooms(), loadRecent()]);
    location.hash = "#/rooms";
  } }, "Leave room");
  parts.push(h("div.actions", leave), err);
  replace(body, parts);

  async function act(fn) {
    try { await fn(); } catch (e) { err.textContent = e.message; return; }
    await loadRooms();
    openRoomMembers(panel, name);
  }
}
