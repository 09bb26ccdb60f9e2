// Diagnostics: the daemon's checks (lanchat doctor) with their fixes, and
// the lanchat daemons heard on the LAN.

import { h, replace, icon } from "./dom.js";
import { get } from "./api.js";
import { on } from "./store.js";

export function mountDiagnostics(root) {
  const checks = h("div", h("p", "Running the checks (up to 15 s)…"));
  const peers = h("div");
  const rerun = h("button", { type: "button", onclick: () => { runDoctor(); runPeers(); } }, "Run again");
  replace(root, h("section.page", { "aria-labelledby": "diag-title", "aria-busy": "false" },
    h("header.page-head", h("a.iconbtn.back", { href: "#/", "aria-label": "Back to conversations" }, "←"), h("h1#diag-title", "Diagnostics"), rerun),
    h("h2", "Checks"), checks,
    h("h2", "lanchat on this network"), peers));

  async function runDoctor() {
    rerun.disabled = true;
    replace(checks, h("p", { role: "status" }, "Running the checks (up to 15 s)…"));
    try {
      const d = await get("/v1/doctor");
      replace(checks, h("ul.checks", { "aria-label": "Checks" }, d.checks.map((c) => {
        const word = !c.ok ? "failed" : c.warn ? "warning" : "ok";
        const cls = !c.ok ? "failed" : c.warn ? "warning" : "pass";
        return h("li", { class: cls, "aria-label": `${c.name}: ${word}` },
          h("span.mark", { "aria-hidden": "true" }, !c.ok ? "✗" : c.warn ? "!" : "✓"),
          h("div", h("strong", c.name), h("span.sr-only", ` ${word}.`), h("p", c.detail),
            c.fix ? h("p.fix", h("strong", "Fix: "), c.fix) : null));
      })));
    } catch (e) {
      replace(checks, h("p.form-error", { role: "alert" }, e.message));
    } finally {
      rerun.disabled = false;
    }
  }

  async function runPeers() {
    try {
      const p = await get("/v1/peers");
      const disc = { on: "LAN discovery is on.", off: "LAN discovery is off (--no-mdns, or nobody has signed in on this machine yet).", blocked: "LAN discovery is blocked: multicast does not work on this network." }[p.discovery] || p.discovery;
      replace(peers, h("p", disc),
        p.contacts.length ? h("ul.rows", { "aria-label": "Contacts heard on the LAN" }, p.contacts.map((c) => h("li", { "aria-label": `Contact ${c.user} heard at ${c.addrs.join(", ")}` },
          h("span.rname", c.user), h("span.hint", c.addrs.join(", ")), h("span", c.connected ? "connected" : "not connected"))))
          : h("p.hint", "No contact's daemon heard on this network right now."),
        h("p.hint", `${p.others} other lanchat daemon${p.others === 1 ? "" : "s"} heard (not your contacts).`));
    } catch (e) {
      replace(peers, h("p.form-error", { role: "alert" }, e.message));
    }
  }

  runDoctor();
  runPeers();
  const off = on("lan", runPeers);
  return off;
}

export { icon };
