// The message history of one conversation: messages and file transfers in
// time order, with day separators and consecutive messages of one sender
// grouped. Items are kept in pages of PAGE; the browser skips laying out
// and painting pages far from the viewport (content-visibility in
// app.css), so a long history stays cheap to scroll.

import { h, replace, linkify, clock, fullTime, dayKey, dayLabel } from "./dom.js";
import { transferCard } from "./xfer.js";
import { quote, media, marks, reactions, readMark, mention } from "./rich.js";
import { state, held } from "./store.js";

const PAGE = 50;
const GROUP_GAP = 5 * 60 * 1000;

const stateWords = {
  queued: ["🕓", "Queued: waits to leave this machine"],
  sent: ["✓", "Sent"],
  delivered: ["✓✓", "Delivered"],
};

export class Timeline {
  constructor(log, target) {
    this.log = log;          // the scrolling element
    this.target = target;
    this.items = [];         // {kind: "msg"|"xfer", at: Date, v}
    this.byId = new Map();   // message or transfer id → element
    this.last = null;        // the last item drawn, for grouping
  }

  // set replaces everything with msgs (the newest page) and the
  // conversation's transfers: those older than the page wait for the
  // page they belong to, unless complete says there is no older one.
  set(msgs, transfers, complete) {
    this.transfers = transfers;
    this.oldest = msgs.length && !complete ? new Date(msgs[0].sent) : null;
    this.items = [];
    const shown = new Set(msgs.filter((m) => m.transfer).map((m) => m.transfer.id));
    for (const m of msgs) this.items.push({ kind: "msg", at: new Date(m.sent), v: m });
    for (const t of transfers) {
      const at = new Date(t.created);
      if ((!this.oldest || at >= this.oldest) && !shown.has(t.id)) this.items.push({ kind: "xfer", at, v: t });
    }
    this.items.sort((a, b) => a.at - b.at);
    this.draw();
  }

  draw() {
    this.byId.clear();
    this.last = null;
    const pages = [];
    let page = null;
    for (let i = 0; i < this.items.length; i++) {
      if (i % PAGE === 0) {
        page = h("div.chunk");
        pages.push(page);
      }
      this.place(page, this.items[i]);
    }
    replace(this.log, pages.length ? pages : h("p.empty-conv", this.target.startsWith("#")
      ? `No messages in ${this.target} yet: say hello, or drop a file here to share it.`
      : `No messages with ${this.target} yet: say hello, or drop a file here to send it.`));
  }

  // prepend puts an older page (msgs, oldest first) above what is shown,
  // without redrawing it. It returns how many messages were new.
  prepend(msgs, complete) {
    const upTo = this.oldest;
    this.oldest = msgs.length && !complete ? new Date(msgs[0].sent) : null;
    const older = msgs.filter((m) => !this.byId.has(m.id)).map((m) => ({ kind: "msg", at: new Date(m.sent), v: m }));
    const shown = new Set(msgs.filter((m) => m.transfer).map((m) => m.transfer.id));
    for (const t of this.transfers || []) {
      const at = new Date(t.created);
      if (upTo && at < upTo && (!this.oldest || at >= this.oldest) && !this.byId.has(t.id) && !shown.has(t.id)) older.push({ kind: "xfer", at, v: t });
    }
    const fresh = older.length;
    if (!older.length) return 0;
    older.sort((a, b) => a.at - b.at);
    const keepLast = this.last;
    this.last = null;
    const pages = [];
    let page = null;
    older.forEach((it, i) => {
      if (i % PAGE === 0) { page = h("div.chunk"); pages.push(page); }
      this.place(page, it);
    });
    // The old first item began with a day separator: drop it if the day
    // goes on from the page above.
    const first = this.log.firstElementChild && this.log.firstElementChild.firstElementChild;
    if (first && first.classList.contains("day") && this.items.length && dayKey(this.items[0].at) === dayKey(older[older.length - 1].at)) {
      first.remove();
    }
    if (this.items.length === 0) replace(this.log);
    this.log.prepend(...pages);
    this.items = older.concat(this.items);
    this.last = keepLast || this.last;
    return fresh;
  }

  // add appends a new item at the end (messages arrive in order; a late
  // one goes at the end too, as conversations are ordered by arrival).
  add(kind, v) {
    if (this.byId.has(v.id)) return false;
    // A file item whose transfer's card is shown already takes it over.
    const card = v.transfer && this.byId.get(v.transfer.id);
    if (card) {
      this.byId.set(v.id, card);
      card.update(fileTransfer(v));
      return false;
    }
    if (this.items.length === 0) replace(this.log);
    const it = { kind, at: new Date(kind === "msg" ? v.sent : v.created), v };
    this.items.push(it);
    let page = this.log.lastElementChild;
    if (!page || page.childElementCount >= PAGE * 1.5) {
      page = h("div.chunk");
      this.log.appendChild(page);
    }
    this.place(page, it);
    return true;
  }

  place(page, it) {
    const prev = this.last;
    if (!prev || dayKey(prev.at) !== dayKey(it.at)) {
      page.appendChild(h("div.day", { role: "separator", "aria-label": dayLabel(it.at) }, h("span", dayLabel(it.at))));
    }
    const cont = prev && prev.kind === "msg" && it.kind === "msg" && prev.v.from === it.v.from &&
      dayKey(prev.at) === dayKey(it.at) && it.at - prev.at < GROUP_GAP;
    const file = it.kind === "msg" && it.v.transfer;
    const el = file ? transferCard(fileTransfer(it.v)) : it.kind === "msg" ? this.message(it.v, cont) : transferCard(it.v);
    this.byId.set(it.v.id, el);
    if (file) this.byId.set(it.v.transfer.id, el);
    page.appendChild(el);
    this.last = it;
  }

  message(m, cont) {
    const at = new Date(m.sent);
    const el = h("div.msg", { class: (m.outgoing ? "out" : "in") + (cont ? " cont" : "") + (m.mentioned ? " mention" : ""), dataset: { id: m.id } },
      h("div.meta", { class: cont && !m.mentioned ? "sr-only" : "" },
        h("span.from", m.outgoing ? "You" : m.from), " ",
        h("time", { datetime: m.sent, title: fullTime(at) }, clock(at)), " ", mention(m)),
      quote(m), media(m),
      m.text && !(m.media && m.text === m.media.name) ? h("div.text", linkify(m.text)) : null,
      marks(m), reactions(m),
      cont ? h("time.hover", { datetime: m.sent, title: fullTime(at), "aria-hidden": "true" }, clock(at)) : null);
    if (m.outgoing) el.appendChild(this.stateMark(m));
    if (m.outgoing && readMark(m)) el.appendChild(readMark(m));
    return el;
  }

  // changeMessage redraws a message that shows differently now (edited,
  // recalled, reacted to, read).
  changeMessage(m) {
    const el = this.byId.get(m.id);
    if (!el) return;
    if (m.transfer) { el.update(fileTransfer(m)); return; }
    const it = this.items.find((x) => x.v.id === m.id);
    if (it) it.v = m;
    const fresh = this.message(m, el.classList.contains("cont"));
    this.byId.set(m.id, fresh);
    el.replaceWith(fresh);
  }

  stateMark(m) {
    const isHeld = m.state === "queued" && !this.target.startsWith("#") && held(this.target);
    if (isHeld) {
      return h("span.state.held", { title: "Held: their identity key changed" },
        `Held: waits until you compare safety numbers with ${this.target}`);
    }
    if (m.state === "failed") {
      // The reason in words, under the message (docs/api.md: error).
      return h("span.state.failed", { title: "Failed" },
        h("span", { "aria-hidden": "true" }, "! "),
        `Not delivered: ${m.error || "the server dropped it undelivered"}`);
    }
    const [mark, words] = stateWords[m.state] || ["", m.state];
    const via = m.via && m.via !== "queued" ? ` (${m.via})` : "";
    return h("span.state", { class: m.state, title: words + via },
      h("span", { "aria-hidden": "true" }, mark), h("span.sr-only", words));
  }

  // update redraws a message's delivery state in place.
  updateMessage(m) {
    const el = this.byId.get(m.id);
    if (!el || !m.outgoing || el.update) return; // a file item shows its transfer's state
    const it = this.items.find((x) => x.v.id === m.id);
    if (it) it.v = { ...it.v, state: m.state, via: m.via, error: m.error };
    const old = el.querySelector(".state");
    const mark = this.stateMark(it ? it.v : m);
    if (old) old.replaceWith(mark); else el.appendChild(mark);
  }

  // redrawHeld refreshes every outgoing mark (after a trust).
  redrawStates() {
    for (const it of this.items) if (it.kind === "msg" && it.v.outgoing) this.updateMessage(it.v);
  }

  updateTransfer(t) {
    const el = this.byId.get(t.id);
    if (el) { el.update(t); return true; }
    return false;
  }

  messages() { return this.items.filter((i) => i.kind === "msg").map((i) => i.v); }

  // flash scrolls to a message and highlights it briefly.
  flash(id) {
    const el = this.byId.get(id);
    if (!el) return false;
    el.scrollIntoView({ block: "center" });
    el.classList.add("flash");
    setTimeout(() => el.classList.remove("flash"), 2000);
    return true;
  }
}

export { state };

// fileTransfer is the transfer a file item of the conversation (a message
// of kind "file") shows, in the form of GET /v1/transfers.
function fileTransfer(m) {
  const t = m.transfer;
  const peer = m.conversation.startsWith("#") ? m.from : m.conversation;
  return {
    id: t.id, name: t.name, state: t.state, direction: t.direction, done: t.done || 0,
    total: t.total || t.size || 0, files: t.files || 1, peer, group: m.conversation.startsWith("#") ? m.conversation : "",
    created: m.sent,
  };
}
