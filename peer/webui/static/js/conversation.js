// One conversation: a header with the name, presence and actions; the
// banner for a changed key; the history; who is typing; the compose box
// with emoji, files, pictures and voice. Files dropped anywhere on the
// conversation or pasted are sent; pictures among them as pictures.

import { h, replace, icon } from "./dom.js";
import { get, post, seg, upload } from "./api.js";
import { state, on, emit, isGroup, presenceOf, held, markRead, loadRecent, roomOf } from "./store.js";
import { Timeline } from "./timeline.js";
import { uploadCard } from "./xfer.js";
import { emojiPicker } from "./emoji.js";
import { presenceText, presenceDot } from "./sidebar.js";
import { openVerify, openMembers, openSearch, closePanel } from "./panels.js";
import { avatar as avatarOf } from "./avatars.js";
import { mountFiles } from "./files.js";
import { openRoomMembers } from "./roompanel.js";
import { isPicture, sendMedia, recorder } from "./media.js";
import { typingLine, typingSender } from "./typing.js";

const FIRST = 60;     // messages read when a conversation opens: a few screens
const MORE = 100;     // more read each time the top is reached

export function mountConversation(root, panel, target) {
  const group = isGroup(target);
  const room = Boolean(roomOf(target));
  const offs = [];
  const limit = FIRST;
  let all = false;        // every older message is loaded
  let loadingOlder = false;
  let atBottom = true;
  let unseen = 0;

  // Header.
  const title = h("h1.conv-title", target);
  const sub = h("p.conv-sub");
  let avatar = group ? h("span.avatar.group", { "aria-hidden": "true" }, "#") : avatarOf(target, "", { labelled: true });
  let avatarID = "";
  const actions = h("div.conv-actions",
    h("button.iconbtn", { type: "button", "aria-label": "Search in this conversation", title: "Search (in this conversation)", onclick: () => openSearch(panel, target, tl) }, icon("search")),
    room
      ? h("button.iconbtn", { type: "button", "aria-label": "Members and room settings", title: "Members", onclick: () => openRoomMembers(panel, target.slice(1)) }, icon("people"))
      : group
      ? h("button.iconbtn", { type: "button", "aria-label": "Members and group settings", title: "Members", onclick: () => openMembers(panel, target.slice(1)) }, icon("people"))
      : h("button.iconbtn", { type: "button", "aria-label": "Safety number", title: "Safety number", onclick: () => openVerify(panel, target) }, icon("shield")));
  const header = h("header.conv-head",
    h("a.iconbtn.back", { href: "#/", "aria-label": "Back to conversations" }, icon("back")),
    avatar, h("div.conv-names", title, sub), actions);

  const banner = h("div.keybanner", { role: "alert", hidden: true });

  // History.
  const log = h("div.log", { role: "log", "aria-live": "polite", "aria-relevant": "additions" });
  const older = h("p.older", { "aria-live": "polite" });
  const uploads = h("div.uploads");
  const scroller = h("div.scroller", { tabindex: "0" }, older, log, uploads);
  const region = h("section.history", { "aria-label": "Messages" }, scroller);
  const newBtn = h("button.newmsgs", { type: "button", hidden: true, onclick: () => scrollBottom() }, "New messages ↓");
  const tl = new Timeline(log, target);

  // Compose.
  const text = h("textarea.compose", { rows: "1", "aria-label": "Message", placeholder: `Message ${target}`, "aria-keyshortcuts": "Enter" });
  const sendBtn = h("button.iconbtn.send", { type: "button", "aria-label": "Send", title: "Send (Enter)" }, icon("send"));
  const fileInput = h("input.sr-only", { type: "file", multiple: true, "aria-label": "Send file", tabindex: "-1" });
  const dirInput = h("input.sr-only", { type: "file", webkitdirectory: true, "aria-label": "Send folder", tabindex: "-1" });
  const picInput = h("input.sr-only", { type: "file", multiple: true, accept: "image/jpeg,image/png,image/gif,image/webp", "aria-label": "Picture to send", tabindex: "-1" });
  const attachBtn = h("button.iconbtn", { type: "button", "aria-label": "Attach files", title: "Attach files", onclick: () => fileInput.click() }, icon("attach"));
  const picBtn = h("button.iconbtn", { type: "button", "aria-label": "Attach picture", title: "Attach picture", onclick: () => picInput.click() }, icon("image"));
  const voiceCtl = recorder((f) => sendPics([f], "voice"), (msg) => { composeErr.textContent = msg; });
  const folderBtn = h("button.iconbtn", { type: "button", "aria-label": "Attach a folder", title: "Attach a folder", onclick: () => dirInput.click() }, icon("folder"));
  const emojiBtn = h("button.iconbtn", { type: "button", "aria-label": "Emoji", "aria-haspopup": "dialog", "aria-expanded": "false", title: "Emoji" }, icon("emoji"));
  const composeErr = h("p.compose-error", { role: "alert" });
  const pickerSlot = h("div.picker-slot");
  const compose = h("form.composer", { "aria-label": "Write a message" },
    pickerSlot, composeErr,
    h("div.compose-row", attachBtn, folderBtn, picBtn, text, ...voiceCtl, emojiBtn, sendBtn),
    fileInput, dirInput, picInput);
  const drop = h("div.dropzone", { hidden: true, "aria-hidden": "true" }, h("p", `Drop files or folders to send them to ${target}`));
  const typing = typingLine(target);
  const pane = h("div.conversation", header, banner, region, newBtn, typing.el, compose, drop);
  replace(root, pane);
  if (group) offs.push(mountFiles(pane, banner, target));

  function drawHeader() {
    const r = roomOf(target);
    if (r) {
      sub.textContent = `${r.members} member${r.members === 1 ? "" : "s"} · ${r.online} online` + (r.topic ? ` · ${r.topic}` : "");
      return;
    }
    if (group) {
      const g = state.groups.groups.find((x) => "#" + x.name === target);
      sub.textContent = g ? `${g.members} member${g.members === 1 ? "" : "s"} · owner ${g.owner}` : "group";
      return;
    }
    const f = state.friends.get(target);
    const p = presenceOf(target);
    if ((f?.avatar || "") !== avatarID || !avatar.isConnected) {
      avatarID = f?.avatar || "";
      const next = avatarOf(target, avatarID, { name: f?.display_name, labelled: true });
      if (avatar.isConnected) avatar.replaceWith(next);
      avatar = next;
    }
    replace(sub, p ? presenceDot(p) : null, f ? presenceText(p) + (f.direct ? " · direct connection" : "") + (f.verified ? " · verified" : "") : "not a friend");
    if (f && f.display_name) title.textContent = `${f.display_name} (${target})`;
  }

  function drawBanner() {
    if (group || !held(target)) { banner.hidden = true; return; }
    replace(banner,
      h("p", h("strong", `${target}'s identity key changed.`),
        ` Messages to and from ${target} are held until you compare safety numbers and trust the new key.`),
      h("button.danger", { type: "button", onclick: () => openVerify(panel, target) }, "Compare safety numbers"));
    banner.hidden = false;
  }

  // beginning is the note above the oldest message.
  function beginning() {
    return room ? `Messages sent in ${target} before you joined are not shown: rooms keep no history for newcomers.`
      : "This is the beginning of the conversation.";
  }

  function nearBottom() { return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80; }

  function scrollBottom() {
    scroller.scrollTop = scroller.scrollHeight;
    atBottom = true;
    seen();
  }

  // seen marks the conversation read once its newest messages are in view
  // while the tab is visible.
  function seen() {
    newBtn.hidden = true;
    if (unseen > 0 && document.visibilityState === "visible") {
      unseen = 0;
      markRead(target);
    }
  }

  function transfersHere() {
    return [...state.transfers.values()].filter((t) => (t.group || t.peer) === target);
  }

  async function load() {
    older.textContent = "";
    let msgs;
    try {
      msgs = await get(`/v1/conversations/${seg(target)}/messages?limit=${limit}`);
    } catch (e) {
      older.textContent = e.message;
      return;
    }
    all = msgs.length < limit;
    tl.set(msgs, transfersHere(), all);
    if (all && room) older.textContent = beginning();
    scrollBottom();
    loadRecent(); // reading marked it read
  }

  // loadOlder reads the page before the oldest message shown when the
  // reader reaches the top, keeping the view where it was.
  async function loadOlder() {
    if (all || loadingOlder) return;
    const have = tl.messages();
    if (have.length === 0) return;
    loadingOlder = true;
    older.textContent = "Loading older messages…";
    try {
      const got = await get(`/v1/conversations/${seg(target)}/messages?limit=${MORE}&before=${have[0].id}`);
      all = got.length < MORE;
      const fromBottom = scroller.scrollHeight - scroller.scrollTop;
      if (tl.prepend(got, all) === 0) all = true;
      scroller.scrollTop = scroller.scrollHeight - fromBottom;
      older.textContent = all ? beginning() : "";
    } catch (e) {
      older.textContent = e.message;
    } finally {
      loadingOlder = false;
    }
  }

  scroller.addEventListener("scroll", () => {
    atBottom = nearBottom();
    if (atBottom) seen();
    if (scroller.scrollTop < 400) loadOlder();
  }, { passive: true });

  // Live updates.
  offs.push(on("message", (m) => {
    if (m.conversation !== target) return;
    const stick = nearBottom();
    if (!tl.add("msg", m)) return;
    if (m.outgoing || stick) {
      scrollBottom();
    } else {
      newBtn.hidden = false;
    }
    if (!m.outgoing) {
      unseen++;
      if (stick && document.visibilityState === "visible") seen();
    }
  }));
  offs.push(on("message.state", (m) => { if (m.conversation === target) tl.updateMessage(m); }));
  offs.push(on("message.changed", (m) => { if (m.conversation === target) tl.changeMessage(m); }));
  offs.push(on("transfer", (t) => {
    if ((t.group || t.peer) !== target) return;
    if (!tl.updateTransfer(t)) {
      const stick = nearBottom();
      tl.add("xfer", t);
      if (stick) scrollBottom();
    }
  }));
  const redraw = () => { drawHeader(); drawBanner(); tl.redrawStates(); };
  offs.push(on("friends", redraw), on("presence", drawHeader), on("groups", drawHeader), on("rooms", drawHeader), on("keychange", redraw));
  offs.push(on("reloaded", load));
  const onVis = () => { if (document.visibilityState === "visible" && atBottom) seen(); };
  document.addEventListener("visibilitychange", onVis);
  offs.push(() => document.removeEventListener("visibilitychange", onVis));

  // Compose: Enter sends, Shift+Enter breaks the line.
  function grow() {
    text.style.height = "auto";
    text.style.height = Math.min(text.scrollHeight, 160) + "px";
  }
  text.addEventListener("input", grow);
  if (!group) text.addEventListener("input", typingSender(target));
  offs.push(typing.stop);
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  sendBtn.addEventListener("click", send);
  compose.addEventListener("submit", (e) => { e.preventDefault(); send(); });

  async function send() {
    const body = text.value;
    if (!body.trim()) { text.focus(); return; }
    composeErr.textContent = "";
    text.value = "";
    grow();
    text.focus();
    try {
      await post("/v1/messages", { target, text: body });
    } catch (e) {
      if (!text.value) { text.value = body; grow(); }
      composeErr.textContent = e.message;
    }
  }

  // Emoji.
  function closePicker() {
    replace(pickerSlot);
    emojiBtn.setAttribute("aria-expanded", "false");
  }
  emojiBtn.addEventListener("click", () => {
    if (pickerSlot.firstChild) { closePicker(); emojiBtn.focus(); return; }
    const dlg = emojiPicker((ch) => {
      const s = text.selectionStart ?? text.value.length;
      const end = text.selectionEnd ?? s;
      text.value = text.value.slice(0, s) + ch + text.value.slice(end);
      text.selectionStart = text.selectionEnd = s + ch.length;
      closePicker();
      text.focus();
      grow();
    }, () => { closePicker(); emojiBtn.focus(); });
    replace(pickerSlot, dlg);
    emojiBtn.setAttribute("aria-expanded", "true");
    dlg.querySelector("button").focus();
  });

  // Files: pick, drop or paste.
  async function sendFiles(items) {
    if (!items.length) return;
    composeErr.textContent = "";
    const total = items.reduce((n, it) => n + it.file.size, 0);
    const top = new Set(items.map((it) => it.path.split("/")[0]));
    const name = top.size === 1 ? [...top][0] : `${items[0].path.split("/")[0]} and ${top.size - 1} more`;
    const card = uploadCard(name, total);
    uploads.appendChild(card);
    scrollBottom();
    try {
      await upload(target, items, (s, t) => card.progress(s, t));
      card.remove(); // the daemon's transfer card has taken its place
    } catch (e) {
      card.fail(e.message);
    }
  }
  // sendPics sends pictures (or a voice recording) as media messages,
  // each behind a card while it is handed to the daemon.
  async function sendPics(files, kind) {
    composeErr.textContent = "";
    for (const f of files) {
      const card = uploadCard(f.name, f.size);
      uploads.appendChild(card);
      scrollBottom();
      try {
        await sendMedia(target, f, kind, (s, t) => card.progress(s, t));
        card.remove();
      } catch (e) {
        card.fail(e.message);
      }
    }
  }
  // sendAny sends pictures as pictures when every file is one, else
  // everything as files.
  function sendAny(files) {
    if (files.length && files.every(isPicture)) sendPics(files, "image");
    else sendFiles(files.map((f) => ({ file: f, path: f.name })));
  }
  picInput.addEventListener("change", () => {
    sendPics([...picInput.files], "image");
    picInput.value = "";
  });
  fileInput.addEventListener("change", () => {
    sendFiles([...fileInput.files].map((f) => ({ file: f, path: f.name })));
    fileInput.value = "";
  });
  dirInput.addEventListener("change", () => {
    sendFiles([...dirInput.files].map((f) => ({ file: f, path: f.webkitRelativePath || f.name })));
    dirInput.value = "";
  });
  text.addEventListener("paste", (e) => {
    const files = [...(e.clipboardData?.files || [])];
    if (files.length) {
      e.preventDefault();
      sendAny(files);
    }
  });
  let dragDepth = 0;
  pane.addEventListener("dragenter", (e) => {
    if (![...e.dataTransfer.types].includes("Files")) return;
    dragDepth++;
    drop.hidden = false;
  });
  pane.addEventListener("dragleave", () => { if (--dragDepth <= 0) { dragDepth = 0; drop.hidden = true; } });
  pane.addEventListener("dragover", (e) => { if ([...e.dataTransfer.types].includes("Files")) e.preventDefault(); });
  pane.addEventListener("drop", async (e) => {
    e.preventDefault();
    dragDepth = 0;
    drop.hidden = true;
    const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    const plain = [...e.dataTransfer.files];
    if (plain.length && entries.every((en) => en.isFile) && plain.every(isPicture)) sendAny(plain);
    else if (entries.length) sendFiles(await walkEntries(entries));
    else sendFiles([...e.dataTransfer.files].map((f) => ({ file: f, path: f.name })));
  });

  offs.push(on("closepanel", () => closePanel(panel, text)));

  drawHeader();
  drawBanner();
  load();
  text.focus();
  return () => offs.forEach((f) => f());
}

// walkEntries lists the files under dropped entries with their paths
// relative to the drop, folders included.
async function walkEntries(entries) {
  const out = [];
  async function walk(entry, prefix) {
    if (entry.isFile) {
      const file = await new Promise((res, rej) => entry.file(res, rej));
      out.push({ file, path: prefix + entry.name });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const e of batch) await walk(e, prefix + entry.name + "/");
      }
    }
  }
  for (const e of entries) await walk(e, "");
  return out;
}

export { post, emit };
