// Profile and account: display name, email, phone, password, sign out,
// and whether to show browser notifications.

import { h, replace } from "./dom.js";
import { post, patch } from "./api.js";
import { state, loadStatus, emit } from "./store.js";
import { field, showError, busy } from "./form.js";
import { notifyState, askNotify } from "./notify.js";
import { groupHex } from "./auth.js";

export function mountProfile(root, signedOut) {
  const me = state.me || {};
  const dn = field("Display name", { name: "display_name", value: me.display_name || "", autocomplete: "name" });
  const em = field("Email", { name: "email", type: "email", value: me.email || "", autocomplete: "email" });
  const ph = field("Phone", { name: "phone", type: "tel", value: me.phone || "", autocomplete: "tel" });
  const pErr = h("p.form-error", { role: "alert" });
  const pOk = h("p.ok", { "aria-live": "polite" });
  const prof = h("form", { "aria-label": "Profile" }, dn.row, em.row, ph.row, pErr, pOk, h("button.primary", { type: "submit" }, "Save profile"));
  prof.addEventListener("submit", async (e) => {
    e.preventDefault();
    pOk.textContent = "";
    const body = { display_name: dn.input.value.trim(), email: em.input.value.trim(), phone: ph.input.value.trim() };
    try {
      const m = await busy(prof, () => patch("/v1/profile", body));
      state.me = { ...state.me, ...m };
      for (const f of [dn, em, ph]) f.setError("");
      pErr.textContent = "";
      pOk.textContent = "Saved.";
      emit("status");
    } catch (er) { showError([dn, em, ph], pErr, er); }
  });

  const old = field("Current password", { name: "old", type: "password", autocomplete: "current-password" });
  const nw = field("New password", { name: "new", type: "password", autocomplete: "new-password", hint: "At least 8 characters, not your username." });
  const wErr = h("p.form-error", { role: "alert" });
  const wOk = h("p.ok", { "aria-live": "polite" });
  const pw = h("form", { "aria-label": "Change password" }, old.row, nw.row, wErr, wOk, h("button", { type: "submit" }, "Change password"));
  pw.addEventListener("submit", async (e) => {
    e.preventDefault();
    wOk.textContent = "";
    if (!old.input.value) { showError([old, nw], wErr, { code: "invalid", field: "old", message: "Current password is required." }); return; }
    if (!nw.input.value) { showError([old, nw], wErr, { code: "invalid", field: "new", message: "New password is required." }); return; }
    try {
      await busy(pw, () => post("/v1/passwd", { old: old.input.value, new: nw.input.value }));
      old.input.value = nw.input.value = "";
      for (const f of [old, nw]) f.setError("");
      wErr.textContent = "";
      wOk.textContent = "Password changed. Your other sessions were signed out.";
    } catch (er) {
      showError([old, nw], wErr, er.code === "auth" ? { ...er, field: "old" } : er.code === "invalid" && !er.field ? { ...er, field: "new" } : er);
    }
  });

  const notes = h("div");
  function drawNotes() {
    const s = notifyState();
    replace(notes, s === "granted" ? h("p", "Notifications are on: messages, friend requests and file offers show while this tab is hidden.")
      : s === "denied" ? h("p", "Notifications are blocked for this page in the browser's settings.")
        : s === "unsupported" ? h("p", "This browser cannot show notifications.")
          : h("div", h("p", "Show a notification for messages, friend requests and file offers while this tab is hidden?"),
            h("button", { type: "button", onclick: async () => { await askNotify(); drawNotes(); } }, "Allow notifications")));
  }
  drawNotes();

  const out = h("button.danger", { type: "button" }, "Sign out");
  const oErr = h("p.form-error", { role: "alert" });
  out.addEventListener("click", async () => {
    try { await post("/v1/logout"); } catch (e) { if (e.code !== "not_logged_in") { oErr.textContent = e.message; return; } }
    signedOut();
  });

  const st = state.status || {};
  replace(root, h("section.page", { "aria-labelledby": "profile-title" },
    h("header.page-head", h("a.iconbtn.back", { href: "#/", "aria-label": "Back to conversations" }, "←"), h("h1#profile-title", "Profile and account")),
    h("p", "Signed in as ", h("strong", me.username || ""), ". Your key fingerprint is ", h("code", me.fingerprint || "?"), "."),
    h("h2", "Profile"), prof,
    h("h2", "Password"), pw,
    h("h2", "Notifications"), notes,
    h("h2", "This machine"),
    h("dl.facts",
      h("dt", "Server"), h("dd", st.server || "none yet", st.server_connected ? " (connected)" : " (not connected)"),
      h("dt", "Server fingerprint"), h("dd", h("code", st.fingerprint ? groupHex(st.fingerprint) : "not pinned yet")),
      h("dt", "Data directory"), h("dd", h("code", st.home || "")),
      h("dt", "Version"), h("dd", st.version || "")),
    h("h2", "Sign out"),
    h("p", "Signing out ends the session; your key and history stay on this machine."), out, oErr));
  loadStatus();
  return () => {};
}
