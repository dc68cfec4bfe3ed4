// The clerk console: each action one click and one key away, through the JSON API with an
// Idempotency-Key per intent; the panel is a server-rendered fragment re-read after each action
// and (debounced) on every frame of the counter's and the hall's live streams.
import { api, newKey, toast } from "/static/hall/page.js";
import { connectLive } from "/static/display/live.js";

const config = JSON.parse(document.getElementById("console-config").textContent);
const strings = config.strings;
const panel = document.getElementById("panel");
const announce = document.querySelector("[data-announce]");
const outcome = document.getElementById("outcome");
const transferDialog = document.getElementById("transfer-dialog");
const pauseDialog = document.getElementById("pause-dialog");
const buttons = new Map(
  [...document.querySelectorAll("[data-action]")].map((b) => [b.dataset.action, b]),
);
let actions = {};
let busy = false;

const fill = (text, values) => text.replace(/\{(\w+)\}/g, (all, k) => values[k] ?? all);

// --- the panel ---------------------------------------------------------------------------

function applyActions() {
  const script = panel.querySelector("#console-actions");
  actions = script ? JSON.parse(script.textContent) : {};
  for (const [action, button] of buttons) {
    button.disabled = busy || !actions[action];
  }
  buttons.get("pause").hidden = !!actions.resume;
  // Issue 16: a pause is refused while a customer is called or served here. The button stays
  // reachable (looking disabled) so that a click or P says the ways out, as the server would.
  const pause = buttons.get("pause");
  const pauseRefused = !actions.pause && !!actions.requeue;
  pause.disabled = busy || !(actions.pause || pauseRefused);
  pause.setAttribute("aria-disabled", String(!actions.pause));
  buttons.get("resume").hidden = !actions.resume;
  buttons.get("open").hidden = !actions.open;
  // Issue 16: past the hall's recall limit the console offers no-show first, as the primary
  // action (recall stays, second); the panel says why.
  const noShowFirst = !!panel.querySelector("[data-suggest-no-show]") && !!actions["no-show"];
  const noShow = buttons.get("no-show");
  noShow.classList.toggle("action-first", noShowFirst);
  noShow.classList.toggle("danger", !noShowFirst);
  const summary = panel.querySelector("[data-panel]")?.dataset.summary || "";
  if (announce.textContent !== summary) announce.textContent = summary;
  tick();
}

let refreshing = null;
let again = false;
async function refresh() {
  if (refreshing) {
    again = true; // one more read after the one in flight: it may predate the latest change
    return refreshing;
  }
  refreshing = (async () => {
    try {
      const response = await fetch(config.panel, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "text/html" },
      });
      if (response.status === 403 || response.status === 302) {
        location.assign(config.list);
        return;
      }
      if (!response.ok) return;
      panel.innerHTML = await response.text();
      applyActions();
    } catch {
      // offline: the live mark says so; the next frame or action reads again
    } finally {
      refreshing = null;
      if (again) {
        again = false;
        refresh();
      }
    }
  })();
  return refreshing;
}

let debounce = null;
function refreshSoon() {
  clearTimeout(debounce);
  debounce = setTimeout(refresh, 100);
}

// Elapsed times tick here; the server renders when each started (data-since).
function tick() {
  const now = Date.now();
  for (const node of document.querySelectorAll("[data-since]")) {
    const since = Number(node.dataset.since) * 1000; // epoch seconds
    if (!since) continue;
    const s = Math.max(0, Math.floor((now - since) / 1000));
    if ("minutes" in node.dataset) {
      node.textContent = `${Math.floor(s / 60)}′`;
    } else {
      const h = Math.floor(s / 3600);
      const m = Math.floor((s % 3600) / 60);
      const sec = String(s % 60).padStart(2, "0");
      node.textContent = h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
    }
  }
}
setInterval(tick, 1000);

// --- actions -----------------------------------------------------------------------------

async function act(action, body) {
  if (busy) return null;
  busy = true;
  applyActions();
  try {
    const result = await api("POST", `${config.api}${action}/`, { body, key: newKey() });
    report(action, result);
    return result;
  } catch (error) {
    toast(error.message, "error", 6000);
    return null;
  } finally {
    busy = false;
    await refresh();
  }
}

function report(action, result) {
  // One outcome at a time: the newest replaces the last (errors stay until they time out).
  for (const old of document.querySelectorAll("[data-toasts] .toast:not(.error)")) old.remove();
  const number = result?.ticket?.number || result?.called?.number || "";
  switch (action) {
    case "call-next":
      if (result.called) toast(fill(strings.called, { number }), "ok");
      else toast(strings.nobody_waiting);
      break;
    case "recall":
      if (result.suggested_action === "no_show") {
        toast(fill(strings.suggest_no_show, { number }), "error", 8000);
      } else toast(fill(strings.recalled, { number }), "ok");
      break;
    case "start":
      toast(fill(strings.started, { number }), "ok");
      break;
    case "finish":
      outcome.value = outcome.options[0].value;
      toast(fill(strings.finished, { number }), "ok");
      break;
    case "no-show":
      toast(fill(strings.no_show, { number }));
      break;
    case "transfer":
      toast(fill(strings.transferred, { number }), "ok");
      break;
    case "requeue":
      toast(fill(strings.requeued, { number }), "ok");
      break;
    case "pause":
      toast(strings.paused);
      break;
    case "resume":
      toast(strings.resumed, "ok");
      break;
    case "open":
      toast(strings.opened, "ok");
      break;
  }
}

async function openTransfer() {
  const body = transferDialog.querySelector("[data-transfer-body]");
  body.textContent = strings.loading;
  transferDialog.showModal();
  try {
    const response = await fetch(config.transfer, { credentials: "same-origin", cache: "no-store" });
    body.innerHTML = await response.text();
  } catch {
    body.textContent = "";
    toast(strings.choose_target, "error");
    return;
  }
  body.querySelector('input[name="target"]')?.focus();
}

transferDialog.addEventListener("change", (event) => {
  const phrase = event.target.dataset?.phrase;
  const slot = transferDialog.querySelector("[data-transfer-phrase]");
  if (phrase && slot) slot.textContent = phrase;
});

transferDialog.querySelector("form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const chosen = transferDialog.querySelector('input[name="target"]:checked');
  if (!chosen) {
    toast(strings.choose_target, "error");
    return;
  }
  const [kind, value] = chosen.value.split(":");
  const body = kind === "counter" ? { counter: Number(value) } : { business_type: value };
  const result = await act("transfer", body);
  if (result) transferDialog.close();
});

function openPause() {
  pauseDialog.querySelector("form").reset();
  showApology();
  pauseDialog.showModal();
  pauseDialog.querySelector('input[name="reason"]:checked')?.focus();
}

function showApology() {
  const chosen = pauseDialog.querySelector('input[name="reason"]:checked');
  if (!chosen) return;
  pauseDialog.querySelector("[data-apology-preview-zh]").textContent = chosen.dataset.apologyZh;
  pauseDialog.querySelector("[data-apology-preview-en]").textContent = chosen.dataset.apologyEn;
  const fault = chosen.value === "system_fault";
  for (const li of pauseDialog.querySelectorAll("[data-fault-phrase]")) li.hidden = !fault;
}
pauseDialog.addEventListener("change", showApology);

pauseDialog.querySelector("form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const result = await act("pause", { reason: form.get("reason"), note: form.get("note") || "" });
  if (result) pauseDialog.close();
});

for (const dialog of [transferDialog, pauseDialog]) {
  dialog.querySelector("[data-dialog-cancel]").addEventListener("click", () => dialog.close());
}

async function run(action) {
  if (action === "pause" && !actions.pause && actions.requeue && !busy) {
    toast(strings.pause_refused, "error", 8000);
    return;
  }
  if (!actions[action] || busy) return;
  switch (action) {
    case "transfer":
      return openTransfer();
    case "pause":
      return openPause();
    case "finish":
      return act("finish", { outcome: outcome.value });
    case "close": {
      const result = await act("close");
      if (result) location.assign(config.list);
      return;
    }
    default:
      return act(action);
  }
}

for (const [action, button] of buttons) {
  button.addEventListener("click", () => run(action));
}

// --- keys --------------------------------------------------------------------------------

const KEYS = {
  n: "call-next",
  " ": "call-next",
  r: "recall",
  s: "start",
  f: "finish",
  x: "no-show",
  b: "requeue",
  t: "transfer",
  q: "close",
};

function typing(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName))
  );
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  if (document.querySelector("dialog[open]")) return; // a dialog has the keys (Esc closes it)
  if (typing(event.target)) return;
  const key = event.key.toLowerCase();
  let action = KEYS[key];
  if (key === "p") action = actions.resume ? "resume" : "pause";
  if (!action) return;
  event.preventDefault(); // Space would also click a focused button
  run(action);
});

// --- live --------------------------------------------------------------------------------

// Frames are also re-dispatched for the console's other modules (incidents.js).
const relay = (frame) => document.dispatchEvent(new CustomEvent("hallq:frame", { detail: frame }));
const live = {
  onSnapshot: (frame) => (refreshSoon(), relay(frame)),
  onEvent: (frame) => (refreshSoon(), relay(frame)),
};
connectLive(config.live.counter, live);
connectLive(config.live.hall, live);
applyActions();
