// Sign in and register. The first run shows the server's certificate
// fingerprint so that the user can compare it with the administrator's.

import { h, replace } from "./dom.js";
import { post } from "./api.js";
import { state, loadStatus, on } from "./store.js";
import { field, showError, busy } from "./form.js";

// groupHex writes a fingerprint in groups of four for reading aloud.
export const groupHex = (fp) => fp.replace(/(.{4})(?=.)/g, "$1 ");

export function mountAuth(root, done) {
  let mode = "signin";
  const box = h("section.auth", { "aria-labelledby": "auth-title" });
  replace(root, h("div.auth-wrap", box));

  function server() {
    const s = state.status || {};
    if (!s.server) {
      return h("div.server-info", h("p", "No lanchat server found yet. Start the daemon with --server HOST:PORT, or wait for one announced on the LAN."));
    }
    return h("div.server-info",
      h("p", "Server ", h("strong", s.server), s.server_connected ? " (connected)" : " (not connected yet)"),
      s.fingerprint
        ? h("div",
          h("p", s.server_unconfirmed ? "This server was found on the LAN. Its certificate fingerprint (SHA-256) is:" : "Its certificate fingerprint (SHA-256) is:"),
          h("p.fingerprint", { "aria-label": "Server certificate fingerprint " + s.fingerprint }, groupHex(s.fingerprint)),
          h("p.hint", "Compare it with the one your administrator gave you (rendezvous fingerprint prints it). If they differ, do not sign in."),
          s.server_unconfirmed ? h("div.confirm", confirm, h("label", { for: confirm.id }, "It is the same as my administrator's")) : null)
        : h("p.hint", "Its certificate fingerprint is shown here once the daemon has reached it."));
  }

  // A server found on the LAN is pinned only with the user's word that
  // its fingerprint is the expected one (server_fingerprint, docs/api.md).
  const confirm = h("input", { type: "checkbox", id: "confirm-server" });

  function draw() {
    const reg = mode === "register";
    const fields = [
      field("Username", { name: "username", autocomplete: "username", required: true, autocapitalize: "off", spellcheck: "false" }),
      field("Password", { name: "password", type: "password", autocomplete: reg ? "new-password" : "current-password", required: true,
        hint: reg ? "At least 8 characters, not your username." : null }),
    ];
    if (reg) {
      fields.push(
        field("Display name (optional)", { name: "display_name", autocomplete: "name" }),
        field("Email (optional)", { name: "email", type: "email", autocomplete: "email" }),
        field("Phone (optional)", { name: "phone", type: "tel", autocomplete: "tel" }));
    }
    const formErr = h("p.form-error", { role: "alert" });
    const form = h("form", { novalidate: true },
      fields.map((f) => f.row), formErr,
      h("button.primary", { type: "submit" }, reg ? "Create account" : "Sign in"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {};
      for (const f of fields) if (f.input.value !== "") body[f.name] = f.name === "password" ? f.input.value : f.input.value.trim();
      // Name the field the user left empty before asking the server.
      for (const f of fields.slice(0, 2)) {
        if (!body[f.name]) {
          showError(fields, formErr, { code: "invalid", field: f.name, message: `${f.row.querySelector("label").textContent} is required.` });
          return;
        }
      }
      const st = state.status || {};
      if (st.server_unconfirmed) {
        if (!confirm.checked) {
          formErr.textContent = "Compare the server's fingerprint above and tick the box if it is the same as your administrator's.";
          confirm.focus();
          return;
        }
        body.server_fingerprint = st.fingerprint;
      }
      try {
        await busy(form, () => post(reg ? "/v1/register" : "/v1/login", body));
      } catch (err) {
        if (err.code === "conflict" && /already logged in/i.test(err.message)) { await loadStatus(); return done(); }
        showError(fields, formErr, err);
        return;
      }
      await loadStatus();
      done();
    });
    replace(box,
      h("h1#auth-title", "lanchat"),
      h("div.tabs", { role: "tablist", "aria-label": "Sign in or create an account" },
        tab("Sign in", "signin"), tab("Create account", "register")),
      server(),
      form);
    fields[0].input.focus();
  }

  function tab(label, m) {
    return h("button", {
      type: "button", role: "tab", "aria-selected": String(mode === m), class: mode === m ? "active" : "",
      onclick: () => { mode = m; draw(); },
    }, label);
  }

  draw();
  // The server event (docs/api.md) says when the daemon reaches the server.
  return on("status", () => {
    const info = box.querySelector(".server-info");
    if (info) info.replaceWith(server());
  });
}
