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

// upload sends files (each {file, path}) to target through the app
// server's upload endpoint, reporting progress(sent, total). It resolves
// to the send-file result.
export function upload(target, items, progress) {
  return new Promise((resolve, reject) => {
    const fd = new FormData();
    for (const it of items) {
      fd.append("path", it.path);
      fd.append("file", it.file, it.file.name);
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${BASE}/v1/upload?target=${encodeURIComponent(target)}`);
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => progress && progress(e.loaded, e.total);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve(xhr.response);
      const e = (xhr.response && xhr.response.error) || {};
      reject(new ApiError(xhr.status, e.code || "http_" + xhr.status, e.message || `Upload failed (HTTP ${xhr.status}).`));
    };
    xhr.onerror = () => reject(new ApiError(0, "unreachable", "The upload did not reach the daemon."));
    xhr.send(fd);
  });
}

// events opens the event stream; onEvent gets each decoded event, onState
// true when the stream is open and false when it broke (EventSource
// reconnects by itself).
export function events(onEvent, onState) {
  const es = new EventSource(BASE + "/v1/events", { withCredentials: true });
  const types = ["message", "message.state", "presence", "friend.request", "friend.accepted",
    "friend.removed", "group", "key.changed", "server", "peer", "lan", "signed_out", "transfer"];
  for (const t of types) {
    es.addEventListener(t, (e) => {
      let ev;
      try { ev = JSON.parse(e.data); } catch { return; }
      onEvent(ev);
    });
  }
  es.onopen = () => onState(true);
  es.onerror = () => onState(false);
  return es;
}
