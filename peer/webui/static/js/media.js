// Pictures and voice messages (docs/api.md, "POST /v1/media"): a picture
// pasted, dropped or picked is handed to the app server like a file, then
// sent with POST /v1/media; a voice message is recorded with MediaRecorder
// (Opus in WebM) and sent the same way. The full picture and the
// recording are read back with GET /v1/messages/{id}/media: a viewer
// dialog and an inline player.

import { h, replace, icon, fullTime } from "./dom.js";
import { BASE, get, post, uploadFiles } from "./api.js";

// mediaURL is where the app reads a message's picture or recording.
export const mediaURL = (id) => `${BASE}/v1/messages/${encodeURIComponent(id)}/media`;

// isPicture reports whether a file is a picture the daemon can send as one.
export const isPicture = (f) => /^image\/(jpeg|png|gif|webp)$/.test(f.type);

// sendMedia hands file to the daemon and sends it as an image or voice
// message ("image" or "voice").
export async function sendMedia(target, file, kind, progress) {
  const [path] = await uploadFiles([{ file, path: file.name }], progress);
  await post("/v1/media", { target, path, kind });
}

// mmss formats milliseconds as "0:30".
export function mmss(ms) {
  const s = Math.round((ms || 0) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// picture is a message's thumbnail, a button that opens the full picture.
export function picture(m) {
  const md = m.media;
  const w = md.width > md.height ? 320 : Math.round(320 * md.width / Math.max(md.height, 1));
  return h("button.pic", { type: "button", "aria-haspopup": "dialog", "aria-label": `Open picture ${md.name}`, title: `${md.name} (${md.width}×${md.height})`, onclick: () => openPicture(m) },
    h("img", { src: "data:image/jpeg;base64," + md.thumb, alt: "", width: w }));
}

// voice is a voice message: its waveform, its length and a player.
export function voice(m) {
  const md = m.media;
  const len = mmss(md.duration_ms);
  // The waveform is bytes, 0 to 255 (base64 in JSON).
  const wf = typeof md.waveform === "string" ? [...atob(md.waveform)].map((c) => c.charCodeAt(0)) : md.waveform || [];
  const bars = wf.map((v) => {
    const b = h("span.wv");
    b.style.height = Math.max(2, Math.round(v / 8)) + "px"; // CSSOM: the CSP allows no style attribute
    return b;
  });
  // Until a recording that follows as a transfer is here, there is
  // nothing to play.
  const player = md.full === false
    ? h("span.modal-note", "The recording follows as a file transfer once you are both online.")
    : h("audio", { controls: true, preload: "metadata", src: mediaURL(m.id), "aria-label": `Play voice message, ${len}` });
  return h("div.voice", { role: "group", "aria-label": `Voice message, ${len}` },
    h("span.wave", { "aria-hidden": "true" }, ...bars), h("span.len", len), player);
}

// modal shows a dialog named label over the app; Esc or Close ends it.
export function modal(label, ...body) {
  const dlg = h("dialog.modal", { "aria-label": label },
    h("div.modal-head", h("strong", label),
      h("button.iconbtn", { type: "button", "aria-label": "Close", onclick: () => dlg.close() }, icon("close"))),
    ...body);
  const back = document.activeElement;
  dlg.addEventListener("close", () => { dlg.remove(); if (back && back.isConnected) back.focus(); });
  document.body.appendChild(dlg);
  dlg.showModal();
  return dlg;
}

// openPicture shows the full picture of an image message.
// Until a picture that follows as a transfer is here, the thumbnail
// shows, saying so.
function openPicture(m) {
  const alt = m.text && m.text !== m.media.name ? m.text : m.media.name;
  const thumb = "data:image/jpeg;base64," + m.media.thumb;
  const note = h("p.modal-note", { role: "status" });
  const img = h("img.full", { src: m.media.full === false ? thumb : mediaURL(m.id), alt });
  const only = () => { note.textContent = "Only the thumbnail is here so far: the full picture follows as a file transfer once you are both online."; };
  if (m.media.full === false) only();
  img.addEventListener("error", () => { if (img.src !== thumb) { img.src = thumb; only(); } });
  modal(m.media.name, img, note);
}

// openVersions lists every version of an edited message, oldest first.
export async function openVersions(m) {
  const list = h("ol.versions");
  const note = h("p.modal-note", { role: "status" }, "Loading versions…");
  modal("Versions of this message", note, list);
  try {
    const vs = await get(`/v1/messages/${encodeURIComponent(m.id)}/versions`);
    note.textContent = vs.length ? `${vs.length} versions, oldest first` : "This message was never edited.";
    replace(list, vs.map((v, i) => h("li",
      h("span.vmeta", (i === 0 ? "Original" : "Edited") + ", " + fullTime(new Date(v.sent))),
      h("p.vtext", v.text || "(hidden: recalled by the sender)"))));
  } catch (e) {
    note.textContent = e.message;
  }
}

// MAX_VOICE bounds a recording: about 600 KiB at 16 kbit/s. Up to about
// 45 s it travels inside the message (128 KiB); longer, it follows as a
// transfer once a direct path exists.
const MAX_VOICE = 5 * 60 * 1000;

// recorder makes the voice controls: "Record voice message" starts
// recording from the microphone, "Stop and send voice message" sends it,
// "Cancel recording" drops it. send(file) gets the recording; fail(msg)
// says why recording could not start.
export function recorder(send, fail) {
  let rec = null, started = 0, tick = 0, keep = true;
  const time = h("span.rec-time", { hidden: true });
  const cancel = h("button.iconbtn", { type: "button", hidden: true, "aria-label": "Cancel recording", title: "Cancel recording", onclick: () => stop(false) }, icon("close"));
  const btn = h("button.iconbtn.rec", { type: "button", "aria-label": "Record voice message", title: "Record voice message", onclick: () => (rec ? stop(true) : start()) }, icon("mic"));

  function show(on) {
    btn.classList.toggle("on", on);
    btn.setAttribute("aria-label", on ? "Stop and send voice message" : "Record voice message");
    btn.title = btn.getAttribute("aria-label");
    time.hidden = cancel.hidden = !on;
  }
  async function start() {
    if (!window.MediaRecorder || !navigator.mediaDevices) return fail("This browser cannot record sound.");
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      return fail(`No microphone to record from: ${e.message}`);
    }
    const type = MediaRecorder.isTypeSupported("audio/webm;codecs=opus") ? "audio/webm;codecs=opus" : "audio/ogg;codecs=opus";
    const chunks = [];
    rec = new MediaRecorder(stream, { mimeType: type, audioBitsPerSecond: 16000 });
    keep = true;
    rec.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
    rec.onstop = () => {
      stream.getTracks().forEach((t) => t.stop());
      clearInterval(tick);
      rec = null;
      show(false);
      if (!keep || !chunks.length) return;
      const ext = type.startsWith("audio/webm") ? "webm" : "ogg";
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
      send(new File(chunks, `voice-${stamp}.${ext}`, { type: type.split(";")[0] }));
    };
    rec.start(1000);
    started = Date.now();
    time.textContent = "0:00";
    tick = setInterval(() => {
      const ms = Date.now() - started;
      time.textContent = mmss(ms);
      if (ms >= MAX_VOICE) stop(true);
    }, 500);
    show(true);
  }
  function stop(send) {
    keep = send;
    if (rec && rec.state !== "inactive") rec.stop();
  }
  return [time, cancel, btn];
}
