// The "Files" tab of a group or room: its shared library (docs/api.md,
// "Shared files"). Files picked or dropped here go to the app server
// (POST /upload, which keeps them in the daemon's data directory) and are
// then shared from there; a download blocks until the file is in place and
// checked, so its row stays busy until then.

import { h, replace, icon, size, ago, fullTime } from "./dom.js";
import { call, get, post, seg, uploadFiles } from "./api.js";
import { state } from "./store.js";

const REFRESH = 15000; // holders come and go: re-read the listing this often while shown
const KEEP = "lanchat.library.keep"; // the last keep setting made from this browser

// mountFiles adds the tabs "Messages" and "Files" under the conversation's
// header; the Files tab shows target's library. It returns the cleanup.
export function mountFiles(pane, after, target) {
  const tabs = h("div.tabs.conv-tabs", { role: "tablist", "aria-label": `Views of ${target}` });
  const panel = h("section.files", { role: "tabpanel", id: "files-" + target.slice(1), "aria-label": `Files of ${target}`, hidden: true });
  const tabMsgs = tab("Messages", true);
  const tabFiles = tab("Files", false, panel.id);
  tabs.append(tabMsgs, tabFiles);
  after.after(tabs);
  tabs.after(panel);

  let timer = 0;
  let shown = false;
  const busy = new Map(); // item id → "Downloading…" and the like, across redraws
  const results = new Map(); // item id → the result line of its last download

  function tab(name, selected, controls) {
    const b = h("button", { type: "button", role: "tab", "aria-selected": String(selected), "aria-controls": controls, class: selected ? "active" : "" }, name);
    b.addEventListener("click", () => show(name === "Files"));
    b.addEventListener("keydown", (e) => {
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        e.preventDefault();
        const other = b === tabMsgs ? tabFiles : tabMsgs;
        show(other === tabFiles);
        other.focus();
      }
    });
    return b;
  }

  function show(files) {
    shown = files;
    for (const [b, on] of [[tabMsgs, !files], [tabFiles, files]]) {
      b.setAttribute("aria-selected", String(on));
      b.className = on ? "active" : "";
      b.tabIndex = on ? 0 : -1;
    }
    pane.classList.toggle("show-files", files);
    panel.hidden = !files;
    clearInterval(timer);
    if (files) {
      load();
      timer = setInterval(() => { if (document.visibilityState === "visible") load(); }, REFRESH);
    }
  }

  // The top: what the tab is, the picker and the drop area, keep.
  const err = h("p.field-error", { role: "alert" });
  const progress = h("div.files-upload", { hidden: true });
  const picker = h("input.sr-only", { type: "file", multiple: true, "aria-label": "Share files", tabindex: "-1" });
  const pickBtn = h("button.primary", { type: "button", onclick: () => picker.click() }, icon("plus"), " Share files…");
  const keep = h("input", { type: "checkbox", id: panel.id + "-keep", checked: localStorage.getItem(KEEP) !== "off" });
  const drop = h("div.files-drop", { role: "group", "aria-label": `Share files with ${target}` },
    h("p", "Drop files here to share them with everyone in ", h("strong", target), ", or ", pickBtn, picker),
    h("p.hint", "Nothing is copied to the server: members download from whoever holds a copy."));
  const keepRow = h("p.files-keep", keep, " ", h("label", { for: keep.id }, "Keep files I download available to others"));
  const list = h("ul.files-list", { "aria-label": `Shared files in ${target}` });
  const status = h("p.files-status", { "aria-live": "polite" }, "Reading the library…");
  replace(panel, drop, progress, err, list, status, keepRow);

  picker.addEventListener("change", () => {
    share([...picker.files]);
    picker.value = "";
  });
  // Drops here share; they must not reach the conversation, which sends.
  let depth = 0;
  const files = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
  panel.addEventListener("dragenter", (e) => { if (files(e)) { e.stopPropagation(); depth++; drop.classList.add("over"); } });
  panel.addEventListener("dragleave", (e) => { e.stopPropagation(); if (--depth <= 0) { depth = 0; drop.classList.remove("over"); } });
  panel.addEventListener("dragover", (e) => { if (files(e)) { e.preventDefault(); e.stopPropagation(); } });
  panel.addEventListener("drop", (e) => {
    e.preventDefault();
    e.stopPropagation();
    depth = 0;
    drop.classList.remove("over");
    share([...e.dataTransfer.files]);
  });

  keep.addEventListener("change", async () => {
    const on = keep.checked;
    err.textContent = "";
    try {
      await call("PUT", "/v1/library/keep", { on });
      localStorage.setItem(KEEP, on ? "on" : "off");
    } catch (e) {
      keep.checked = !on;
      err.textContent = e.message;
    }
  });

  async function share(picked) {
    if (!picked.length) return;
    err.textContent = "";
    const total = picked.reduce((n, f) => n + f.size, 0);
    const bar = h("div.bar", { role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0", "aria-label": "Upload to share" }, h("span.fill"));
    const line = h("p.xfer-state", `Handing ${picked.length === 1 ? picked[0].name : picked.length + " files"} to lanchat…`);
    replace(progress, bar, line);
    progress.hidden = false;
    pickBtn.disabled = true;
    try {
      const paths = await uploadFiles(picked.map((f) => ({ file: f, path: f.name })), (sent, tot) => {
        const pct = tot ? Math.floor((sent / tot) * 100) : 100;
        bar.firstChild.style.width = pct + "%";
        bar.setAttribute("aria-valuenow", String(pct));
        line.textContent = `Handing the files to lanchat: ${size(sent)} of ${size(total)}`;
      });
      line.textContent = "Checking the files and sharing them…";
      await post(`/v1/library/${seg(target)}`, { paths });
      progress.hidden = true;
      await load();
    } catch (e) {
      progress.hidden = true;
      err.textContent = "Could not share: " + e.message;
    } finally {
      pickBtn.disabled = false;
    }
  }

  // mayWithdraw: the sharer, the group's owner, a room's admin.
  let admins = null;
  async function loadAdmins() {
    try {
      const gm = await get(`/v1/groups/${seg(target.slice(1))}/members`);
      admins = new Set(gm.members.filter((m) => m.owner || m.admin).map((m) => m.username));
    } catch {
      admins = new Set();
    }
  }
  const me = () => state.me?.username || "";
  const mayWithdraw = (s) => s.sharer === me() || (admins && admins.has(me()));

  async function load() {
    if (!admins) await loadAdmins();
    let l;
    try {
      l = await get(`/v1/library/${seg(target)}`);
    } catch (e) {
      status.textContent = e.message;
      return;
    }
    if (!shown) return;
    draw(l.shares || []);
  }

  let drawn = "";
  function draw(shares) {
    // A refresh that changes nothing leaves the rows (and the focus) alone.
    const sig = JSON.stringify([shares, [...busy], [...results], admins && [...admins]]);
    if (sig === drawn) return;
    drawn = sig;
    status.textContent = shares.length ? `${shares.length} shared file${shares.length === 1 ? "" : "s"}` : `No shared files yet: drop one here to share it with ${target}.`;
    replace(list, shares.map(row));
  }

  function row(s) {
    const when = new Date(s.shared);
    const avail = s.held ? "you hold a copy" : s.available ? `available from ${s.online} online` : "unavailable now: no holder online";
    const holders = `${s.holders} holder${s.holders === 1 ? "" : "s"}`;
    const label = `${s.path}, ${size(s.size)}, shared by ${s.sharer} ${ago(when)}, ${holders}, ${avail}`;
    const err = h("p.field-error", { role: "alert" });
    const note = h("p.files-result", { "aria-live": "polite" }, results.get(s.id) || "");
    const btns = [];
    const doing = busy.get(s.id);
    const bar = doing ? h("div.bar.busy", { role: "progressbar", "aria-label": `Download of ${s.path}`, "aria-valuetext": doing }, h("span.fill")) : null;
    if (!s.held) {
      btns.push(h("button", { type: "button", "aria-label": `Download ${s.path}`, disabled: !s.available || !!doing, onclick: () => download(s) },
        doing || "Download"));
    }
    if (mayWithdraw(s)) {
      btns.push(h("button.danger", { type: "button", "aria-label": `Withdraw ${s.path}`, disabled: !!doing, onclick: (e) => withdraw(s, err, e.currentTarget) }, "Withdraw"));
    }
    return h("li.file", { "aria-label": label, "aria-busy": doing ? "true" : null, dataset: { id: s.id } },
      h("div.xfer-head", icon("attach"),
        h("div.xfer-title", h("strong.xfer-name", s.path),
          h("span.xfer-sub", `${size(s.size)} · ${s.sharer} · `, h("time", { datetime: s.shared, title: fullTime(when) }, ago(when)), ` · ${holders}`),
          h("span.xfer-sub", { class: s.available ? "ok" : "off" }, avail[0].toUpperCase() + avail.slice(1)))),
      bar, note, btns.length ? h("div.xfer-actions", btns) : null, err);
  }

  async function download(s) {
    busy.set(s.id, "Downloading…");
    results.delete(s.id);
    await load();
    try {
      const r = await post(`/v1/library/${seg(target)}/${seg(s.id)}/get`, {});
      const from = Object.entries(r.from || {}).map(([u, n]) => `${u} ${size(n)}`).join(", ");
      results.set(s.id, `Downloaded to ${r.path}` + (from ? ` (from ${from})` : "") + (r.resumed ? `, ${size(r.resumed)} kept from before` : ""));
    } catch (e) {
      results.set(s.id, "Download failed: " + e.message);
    } finally {
      busy.delete(s.id);
      await load();
    }
  }

  // withdraw asks once more on the button itself, then withdraws.
  async function withdraw(s, line, btn) {
    if (btn.dataset.armed !== "1") {
      btn.dataset.armed = "1";
      btn.textContent = "Withdraw for everyone?";
      btn.setAttribute("aria-label", `Confirm withdrawing ${s.path}`);
      line.textContent = `Members will no longer see ${s.path}. Press again to withdraw it.`;
      return;
    }
    btn.disabled = true;
    try {
      await call("DELETE", `/v1/library/${seg(target)}/${seg(s.id)}`);
      await load();
    } catch (e) {
      btn.disabled = false;
      line.textContent = e.message;
    }
  }

  return () => { clearInterval(timer); tabs.remove(); panel.remove(); pane.classList.remove("show-files"); };
}
