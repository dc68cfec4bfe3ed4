// Shared by the staff and customer pages: the JSON API with CSRF and Idempotency-Key, toasts,
// and htmx's requests carrying the CSRF token. Pages import what they need:
//   import { api, toast, newKey } from "/static/hall/page.js";

const strings = JSON.parse(document.getElementById("page-strings")?.textContent || "{}");

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}

export function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || strings.failed || "Failed");
    this.status = status;
    this.code = error?.code || "";
    this.fields = error?.fields || {};
  }
}

// A JSON request to /api/v1/. `key` sets Idempotency-Key (reuse it when retrying the same
// intent: the server then acts once). `headers` adds e.g. a kiosk's "Authorization: Device …".
export async function api(method, url, { body, key, headers = {} } = {}) {
  const init = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": csrfToken(), ...headers },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (key) init.headers["Idempotency-Key"] = key;
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, { code: "network", message: strings.network });
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data?.error);
  return data;
}

export function toast(text, kind = "info", ms = 4000) {
  const box = document.querySelector("[data-toasts]");
  if (!box) return;
  const item = document.createElement("div");
  item.className = `toast ${kind}`;
  item.textContent = text;
  box.append(item);
  setTimeout(() => item.remove(), ms);
}

document.addEventListener("htmx:configRequest", (event) => {
  event.detail.headers["X-CSRFToken"] = csrfToken();
});
document.addEventListener("htmx:sendError", () => toast(strings.network, "error"));
