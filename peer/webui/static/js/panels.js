// The side panel of a conversation, opened on demand: the safety number
// (verify and trust), a group's members and settings, and search within
// the conversation.

import { h, replace, icon, clock, dayLabel } from "./dom.js";
import { get, post, seg } from "./api.js";
import { state, emit, loadFriends, loadGroups, loadRecent, presenceOf, byPresence } from "./store.js";
import { field, showError, busy } from "./form.js";
import { presenceText, presenceDot } from "./sidebar.js";
import { avatar } from "./avatars.js";

// open fills the panel with a titled dialog-like region and focuses it.
const openers = new WeakMap(); // panel → the element focused before it opened

export function openPanel(panel, title, ...body) {
  if (!panel.contains(document.activeElement)) openers.set(panel, document.activeElement);
  const close = h("button.iconbtn", { type: "button", "aria-label": "Close panel", title: "Close (Esc)" }, icon("close"));
  close.addEventListener("click", () => closePanel(panel));
  const heading = h("h2", { tabindex: "-1" }, title);
  replace(panel, h("div.panel-head", heading, close), h("div.panel-body", body));
  panel.setAttribute("aria-label", title);
  panel.hidden = false;
  heading.focus();
  return panel.querySelector(".panel-body");
}

// closePanel hides panel and gives the focus back to what opened it (or
// to fallback when that is gone), so the keyboard is never left on the
// page's body.
export function closePanel(panel, fallback) {
  const had = panel.contains(document.activeElement);
  panel.hidden = true;
  replace(panel);
  if (!had) return;
  const back = openers.get(panel);
  openers.delete(panel);
  if (back && back.isConnected && back !== document.body) back.focus();
  else if (fallback) fallback.focus();
}

// openVerify shows the safety number shared with user. Trust and verify
// act on the key whose number is on screen: the API is given its
// fingerprint when it names one.
export async function openVerify(panel, user) {
  const body = openPanel(panel, `Safety number with ${user}`, h("p", "Reading the safety number…"));
  let v;
  try {
    v = await get(`/v1/verify/${seg(user)}`);
  } catch (e) {
    replace(body, h("p.form-error", { role: "alert" }, e.message));
    return;
  }
  const err = h("p.form-error", { role: "alert" });
  const keyArg = v.fingerprint ? { fingerprint: v.fingerprint } : undefined;
  const groups = v.safety_number.split(" ");
  const number = h("div.safety", { role: "group", "aria-label": "Safety number " + v.safety_number },
    groups.map((g) => h("span", { "aria-hidden": "true" }, g)));
  const parts = [];
  if (v.key_changed) {
    parts.push(h("div.keybanner.inline", h("p", h("strong", `${user}'s identity key changed.`),
      " This is the safety number for the new key. Compare it with the one on their screen, in person or on a call. Trust the new key only if they match.")));
  } else {
    parts.push(h("p", `Compare this number with the one ${user} sees (lanchat verify ${state.me ? state.me.username : "you"} on their side), in person or on a call.`));
  }
  parts.push(number);
  if (v.fingerprint) parts.push(h("p.hint", "Key fingerprint ", h("code", v.fingerprint)));
  if (v.same_key && v.same_key.length) {
    parts.push(h("p.form-error", `This key is also pinned for ${v.same_key.join(", ")}. A key belongs to one account: nothing goes to or comes from any of them until that is resolved.`));
  }
  if (v.verified) parts.push(h("p.ok", icon("check"), ` You verified ${user}.`));
  const btns = h("div.actions");
  if (v.key_changed) {
    btns.appendChild(h("button.danger", { type: "button", onclick: () => act(() => post(`/v1/trust/${seg(user)}`, keyArg)) }, "Trust the new key"));
  } else if (!v.verified) {
    btns.appendChild(h("button.primary", { type: "button", onclick: () => act(() => post(`/v1/verify/${seg(user)}`, keyArg)) }, "Mark as verified"));
  }
  parts.push(btns, err);
  replace(body, parts);

  async function act(fn) {
    try {
      await busy(body, fn);
    } catch (e) {
      err.textContent = e.message;
      // The key changed again since it was shown: show the new number.
      if (e.code === "key_changed") setTimeout(() => openVerify(panel, user), 2500);
      return;
    }
    state.keyChanged.delete(user);
    await loadFriends();
    emit("keychange", { user });
    openVerify(panel, user);
  }
}

// readMembers opens the panel on #name and reads its members, online
// first; null, with the panel saying why, when they cannot be read.
export async function readMembers(panel, name) {
  const body = openPanel(panel, `#${name}`, h("p", "Reading the members…"));
  let gm;
  try {
    gm = await get(`/v1/groups/${seg(name)}/members`);
  } catch (e) {
    replace(body, h("p.form-error", { role: "alert" }, e.message));
    return null;
  }
  const me = state.me ? state.me.username : "";
  return { body, gm, me, members: [...gm.members].sort(byPresence) };
}

// memberRow is one member of a group or room: avatar, name and role
// ("owner", "admin" or ""), presence, and the buttons the user may press.
export function memberRow(m, me, role, ...buttons) {
  const shown = m.username === me ? "you" : presenceText(m.presence);
  return h("li", { "aria-label": `Member ${m.username}${role ? ", " + role : ""}, ${shown}` },
    avatar(m.username, m.avatar, { name: m.display_name, labelled: true, extra: presenceDot(m.presence) }),
    h("span.mname", m.display_name ? `${m.display_name} (${m.username})` : m.username, role ? h("small", " " + role) : null),
    h("span.mstate", shown),
    ...buttons);
}

// openMembers lists a group's members, online first, with what the user
// may do: invite, and for the owner kick, rename and delete; leave.
export async function openMembers(panel, name) {
  const read = await readMembers(panel, name);
  if (!read) return;
  const { body, gm, me, members } = read;
  const owner = gm.group.owner === me;
  const err = h("p.form-error", { role: "alert" });
  const list = h("ul.members", { "aria-label": "Members" }, members.map((m) => memberRow(m, me, m.owner ? "owner" : "",
    owner && m.username !== me
      ? h("button.small", { type: "button", "aria-label": `Remove ${m.username} from #${name}`,
        onclick: () => act(() => post("/v1/groups/kick", { name, user: m.username })) }, "Remove")
      : null)));

  const inv = field("Invite someone (username)", { name: "user", autocomplete: "off", autocapitalize: "off" });
  const invErr = h("p.form-error", { role: "alert" });
  const invForm = h("form.inline", inv.row, h("button.primary", { type: "submit" }, "Invite"), invErr);
  invForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const user = inv.input.value.trim();
    if (!user) { inv.setError("Username: type who to invite."); return; }
    try {
      await busy(invForm, () => post("/v1/groups/invite", { name, user }));
    } catch (er) {
      showError([inv], invErr, er.code === "invalid" || er.code === "not_found" ? { ...er, field: "user" } : er);
      return;
    }
    inv.input.value = "";
    invErr.textContent = `Invited ${user}.`;
  });

  const parts = [h("h3", `${members.length} member${members.length === 1 ? "" : "s"}`), list, invForm];
  if (owner) {
    const ren = field("New name", { name: "new_name", autocomplete: "off", value: name });
    const renErr = h("p.form-error", { role: "alert" });
    const renForm = h("form.inline", ren.row, h("button", { type: "submit" }, "Rename"), renErr);
    renForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const g = await busy(renForm, () => post("/v1/groups/rename", { name, new_name: ren.input.value.trim() }));
        await loadGroups();
        location.hash = "#/c/" + encodeURIComponent("#" + g.name);
      } catch (er) { showError([ren], renErr, { ...er, field: er.code === "invalid" || er.code === "conflict" ? "new_name" : "" }); }
    });
    parts.push(h("h3", "Group settings"), renForm);
  }
  const leave = h("button", { type: "button", onclick: () => confirmThen(leave, `Leave #${name}?`, async () => {
    await post("/v1/groups/leave", { name });
    done();
  }) }, "Leave group");
  const del = owner ? h("button.danger", { type: "button", onclick: () => confirmThen(del, `Delete #${name} for everyone?`, async () => {
    await post("/v1/groups/delete", { name });
    done();
  }) }, "Delete group") : null;
  parts.push(h("div.actions", leave, del), err);
  replace(body, parts);

  async function done() {
    await Promise.all([loadGroups(), loadRecent()]);
    location.hash = "#/groups";
  }
  async function act(fn) {
    try { await fn(); } catch (e) { err.textContent = e.message; return; }
    await loadGroups();
    openMembers(panel, name);
  }
  async function confirmThen(btn, question, fn) {
    // A second press confirms: no modal dialogs.
    if (btn.dataset.armed) {
      try { await fn(); } catch (e) { err.textContent = e.message; }
      return;
    }
    btn.dataset.armed = "1";
    const label = btn.textContent;
    btn.textContent = `${question} Press again to confirm`;
    setTimeout(() => { delete btn.dataset.armed; btn.textContent = label; }, 4000);
  }
}

// openSearch searches this conversation's history.
export function openSearch(panel, target, tl) {
  const q = h("input", { type: "search", "aria-label": `Search messages with ${target}`, placeholder: "Search this conversation", autocomplete: "off" });
  const results = h("ul.results", { "aria-label": "Search results" });
  const note = h("p.hint", { "aria-live": "polite" });
  const form = h("form.searchform", { role: "search" }, q, h("button.primary", { type: "submit" }, "Search"));
  openPanel(panel, `Search in ${target}`, form, note, results);
  q.focus();
  let seq = 0;
  async function run() {
    const text = q.value.trim();
    const my = ++seq;
    if (!text) { replace(results); note.textContent = ""; return; }
    let found;
    try {
      found = await get(`/v1/conversations/${seg(target)}/messages?limit=200&search=${encodeURIComponent(text)}`);
    } catch (e) { note.textContent = e.message; return; }
    if (my !== seq) return;
    note.textContent = found.length ? `${found.length} message${found.length === 1 ? "" : "s"} found` : "No message matches.";
    replace(results, found.reverse().map((m) => {
      const at = new Date(m.sent);
      return h("li", { "aria-label": `Found: ${m.outgoing ? "You" : m.from}, ${dayLabel(at)} ${clock(at)}` }, h("button.result", { type: "button", onclick: () => {
        if (!tl.flash(m.id)) note.textContent = "That message is older than the ones loaded: scroll up to load it.";
      } },
      h("span.rmeta", `${m.outgoing ? "You" : m.from} · ${dayLabel(at)} ${clock(at)}`), h("span.rtext", m.text)));
    }));
  }
  let t;
  q.addEventListener("input", () => { clearTimeout(t); t = setTimeout(run, 250); });
  form.addEventListener("submit", (e) => { e.preventDefault(); run(); });
}

export { presenceOf };
