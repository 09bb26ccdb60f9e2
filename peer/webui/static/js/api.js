// The daemon's local API (docs/api.md), reached through the app's own
// origin under BASE. Every call is one request; the app keeps no business
// logic of its own.

// BASE is where the app server mounts the daemon's API.
export const BASE = "/api";

// ApiError is a failed call: code is the API's stable error code.
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || "";
  }
}

// call sends one request and returns the decoded reply (null for 204).
export async function call(method, path, body) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch (e) {
    throw new ApiError(0, "unreachable", "The lanchat daemon is not answering: is it running?");
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (res.status === 403 && !data) {
    // The app server refuses a page without its session cookie.
    throw new ApiError(403, "no_session", "Not signed in: open the app with the command lanchat ui");
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(res.status, e.code || "http_" + res.status,
      e.message || `The request failed (HTTP ${res.status}).`, e.field);
  }
  return data;
}

export const get = (p) => call("GET", p);
export const post = (p, b) => call("POST", p, b);
export const patch = (p, b) => call("PATCH", p, b);

// seg escapes one path segment: "#team" becomes "%23team".
export const seg = (s) => encodeURIComponent(s);

// upload hands files (each {file, path}: path relative to what was
// picked or dropped, "photos/a.jpg" inside a folder) to the app server,
// which stores each in the daemon's data directory (POST /upload, outside
// the API's prefix), then offers them to target with POST /v1/transfers.
// progress(sent, total) follows the bytes; it resolves to the send-file
// result.
export async function upload(target, items, progress) {
  return post("/v1/transfers", { target, paths: await uploadFiles(items, progress) });
}

// uploadFiles stores items with the app server and returns the paths to
// hand to the API: each top-level file, or the folder it came in.
export async function uploadFiles(items, progress) {
  const total = items.reduce((n, it) => n + it.file.size, 0);
  let sent = 0;
  let batch = "";
  const roots = [];
  for (const it of items) {
    let url = "/upload?name=" + encodeURIComponent(it.path);
    if (batch) url += "&batch=" + encodeURIComponent(batch);
    const r = await sendBytes(url, it.file, (n) => progress && progress(sent + n, total));
    sent += it.file.size;
    batch = r.batch;
    const top = it.path.includes("/") ? r.root : r.path;
    if (!roots.includes(top)) roots.push(top);
  }
  return roots;
}

function sendBytes(url, file, progress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => progress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300 && xhr.response) return resolve(xhr.response);
      const e = (xhr.response && xhr.response.error) || {};
      reject(new ApiError(xhr.status, e.code || "http_" + xhr.status, e.message || `${file.name} could not be handed to lanchat (HTTP ${xhr.status}).`));
    };
    xhr.onerror = () => reject(new ApiError(0, "unreachable", `${file.name} did not reach the lanchat daemon.`));
    xhr.send(file);
  });
}

// events opens the event stream; onEvent gets each decoded event, onState
// true when the stream is open and false when it broke: EventSource
// reconnects by itself unless closed is set (the app server refused it).
export function events(onEvent, onState) {
  const es = new EventSource(BASE + "/v1/events", { withCredentials: true });
  const types = ["message", "message.state", "message.changed", "presence", "friend.request", "friend.accepted",
    "friend.removed", "group", "key.changed", "server", "peer", "lan", "signed_out", "transfer", "profile", "typing"];
  for (const t of types) {
    es.addEventListener(t, (e) => {
      let ev;
      try { ev = JSON.parse(e.data); } catch { return; }
      onEvent(ev);
    });
  }
  es.onopen = () => onState(true);
  es.onerror = () => onState(false, es.readyState === EventSource.CLOSED);
  return es;
}
