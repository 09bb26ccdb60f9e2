// A file transfer as an item of the conversation: a card with the name,
// the size, a live progress bar with rate and ETA, and the buttons that
// apply (accept, reject, cancel).

import { h, replace, icon, size, duration, clock } from "./dom.js";
import { post } from "./api.js";
import { state, emit } from "./store.js";

const words = {
  queued: "waiting for a direct connection",
  offered: "waiting for an answer",
  active: "moving",
  waiting: "interrupted; resumes by itself",
  done: "done",
  failed: "failed",
  cancelled: "cancelled",
  rejected: "declined",
};

const live = (s) => s === "queued" || s === "offered" || s === "active" || s === "waiting";

// transferCard makes the card for t; update(t) redraws it in place.
export function transferCard(t) {
  const el = h("div.xfer", { role: "group", dataset: { id: t.id } });
  el.update = (t2) => draw(el, t2);
  draw(el, t);
  return el;
}

function draw(el, t) {
  const out = t.direction === "send";
  const who = out ? (t.group ? `to ${t.group}` : `to ${t.peer}`) : `from ${t.peer}`;
  const pct = t.total > 0 ? Math.min(100, Math.floor((t.done / t.total) * 100)) : (t.state === "done" ? 100 : 0);
  const stateText = t.state === "offered" && !out ? "offered to you" : words[t.state] || t.state;
  el.className = `xfer ${out ? "out" : "in"} ${t.state}`;
  el.setAttribute("aria-label", `File ${out ? "sent" : "received"} ${who}: ${t.name}, ${size(t.total)}, ${stateText}`);
  const rows = [
    h("div.xfer-head", icon(t.files > 1 ? "folder" : "attach"),
      h("div.xfer-title", h("strong.xfer-name", t.name),
        h("span.xfer-sub", `${t.files} file${t.files === 1 ? "" : "s"} · ${size(t.total)} · ${who} · ${clock(new Date(t.created))}`))),
  ];
  if (live(t.state) || t.state === "done") {
    const bar = h("div.bar", {
      role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(pct),
      "aria-label": `Progress of ${t.name}`, "aria-valuetext": `${pct}%, ${size(t.done)} of ${size(t.total)}`,
    }, h("span.fill"));
    bar.firstChild.style.width = pct + "%";
    rows.push(bar);
  }
  let line = stateText[0].toUpperCase() + stateText.slice(1);
  if (t.state === "active") {
    line = `${size(t.done)} of ${size(t.total)}`;
    if (t.rate > 0) line += ` · ${size(t.rate)}/s · ${duration((t.total - t.done) / t.rate)} left`;
  } else if (t.state === "waiting" && t.done > 0) {
    line += ` · ${size(t.done)} of ${size(t.total)} so far`;
  }
  if (t.error && t.state !== "done") line += `: ${t.error}`;
  rows.push(h("p.xfer-state", { role: t.state === "failed" ? "alert" : null }, line));
  if (t.state === "done" && !out && t.dir) rows.push(h("p.xfer-saved", "Saved in ", h("code", t.dir)));
  const btns = [];
  if (!out && t.state === "offered") {
    btns.push(h("button.primary", { type: "button", onclick: () => act(el, t, "accept") }, "Accept"));
    btns.push(h("button", { type: "button", onclick: () => act(el, t, "reject") }, "Reject"));
  }
  if (live(t.state) && !(t.state === "offered" && !out)) {
    btns.push(h("button", { type: "button", onclick: () => act(el, t, "cancel") }, "Cancel"));
  }
  const err = h("p.field-error", { role: "alert" });
  if (btns.length) rows.push(h("div.xfer-actions", btns));
  rows.push(err);
  replace(el, rows);
}

async function act(el, t, action) {
  const err = el.querySelector(".field-error");
  el.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  try {
    const t2 = await post(`/v1/transfers/${t.id}/${action}`);
    state.transfers.set(t2.id, t2);
    emit("transfer", t2);
  } catch (e) {
    el.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    if (err) err.textContent = e.message;
  }
}

// uploadCard shows a browser upload on its way to the daemon, before the
// daemon's transfer exists.
export function uploadCard(name, total) {
  const fill = h("span.fill");
  const bar = h("div.bar", { role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0", "aria-label": `Upload of ${name}` }, fill);
  const line = h("p.xfer-state", "Handing the file to lanchat…");
  const el = h("div.xfer.out.active.upload", { role: "group", "aria-label": `Preparing ${name} to send` },
    h("div.xfer-head", icon("attach"), h("div.xfer-title", h("strong.xfer-name", name), h("span.xfer-sub", size(total)))),
    bar, line);
  el.progress = (sent, tot) => {
    const pct = tot ? Math.floor((sent / tot) * 100) : 0;
    fill.style.width = pct + "%";
    bar.setAttribute("aria-valuenow", String(pct));
    line.textContent = `Handing the file to lanchat: ${size(sent)} of ${size(tot)}`;
  };
  el.fail = (msg) => {
    el.className = "xfer out failed";
    line.textContent = msg;
    line.setAttribute("role", "alert");
  };
  return el;
}
