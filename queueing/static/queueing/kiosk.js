// The kiosk: welcome → confirm → ticket, with an elderly mode and a return to the welcome
// after inactivity. Everything shown is rendered by the server (the board, the confirmation,
// the ticket); the texts this script may show come from #kiosk-config. Issuing goes through the
// public API with the confirmation screen's own Idempotency-Key, and the button is disabled on
// the first tap, so a double tap or a retry issues one ticket.

import { api, ApiError } from "/static/hall/page.js";
import { connectLive } from "/static/display/live.js";
import { fitPageToTicket } from "/static/queueing/ticket_page.js";

const config = JSON.parse(document.getElementById("kiosk-config").textContent);
const strings = config.strings;
const authHeaders = config.token ? { Authorization: `Device ${config.token}` } : {};
const steps = [...document.querySelectorAll("section[data-step]")];
const board = document.querySelector("[data-board]");
const confirmBox = document.querySelector("[data-confirm]");
const ticketBox = document.querySelector("[data-ticket]");
const printArea = document.querySelector("[data-print-area]");
const elderlyToggle = document.querySelector("[data-elderly-toggle]");
const ELDERLY_KEY = "hallq-kiosk-elderly";

let step = "welcome";
let idleTimer = null;
let busy = false;
let keypadTarget = null;
let lastBoardHtml = null;

// ---- Steps and the idle timer ----------------------------------------------------------------

function show(name) {
  step = name;
  document.body.dataset.kioskStep = name;
  for (const section of steps) section.hidden = section.dataset.step !== name;
  const heading = document.querySelector(`[data-step="${name}"] h1`);
  heading?.focus({ preventScroll: true });
  window.scrollTo(0, 0);
  armIdle();
}

function isDefaultLanguage() {
  return document.documentElement.lang !== "en";
}

function armIdle() {
  clearTimeout(idleTimer);
  const atRest = step === "welcome" && isDefaultLanguage() && !elderly();
  if (atRest) return;
  const seconds = step === "ticket" ? config.printed_idle_s : config.idle_s;
  idleTimer = setTimeout(restart, seconds * 1000);
}

function restart() {
  clearTimeout(idleTimer);
  busy = false;
  confirmBox.replaceChildren();
  ticketBox.replaceChildren();
  printArea.replaceChildren();
  setElderly(false);
  if (!isDefaultLanguage()) {
    // The next customer starts in Chinese: back to the hall's default language.
    document.querySelector("[data-language-reset]").submit();
    return;
  }
  show("welcome");
  refreshBoard();
}

for (const type of ["pointerdown", "keydown", "input"]) {
  document.addEventListener(type, () => armIdle(), { passive: true });
}

// ---- Elderly mode ----------------------------------------------------------------------------

function elderly() {
  return document.documentElement.classList.contains("elderly");
}

function setElderly(on) {
  document.documentElement.classList.toggle("elderly", on);
  elderlyToggle.setAttribute("aria-pressed", String(on));
  if (on) sessionStorage.setItem(ELDERLY_KEY, "1");
  else sessionStorage.removeItem(ELDERLY_KEY);
}

elderlyToggle.addEventListener("click", () => {
  setElderly(!elderly());
  armIdle();
});
setElderly(sessionStorage.getItem(ELDERLY_KEY) === "1");

// ---- The board: business types with people waiting and the estimated wait -------------------

async function refreshBoard() {
  // Not while the customer is on it with the keyboard: swapping would lose their focus.
  if (step !== "welcome" || board.contains(document.activeElement)) return;
  try {
    const response = await fetch(config.board_url, { credentials: "same-origin" });
    if (!response.ok) return;
    const html = await response.text();
    // Unchanged: leave the buttons alone (nothing flickers under a finger).
    if (html !== lastBoardHtml) {
      board.innerHTML = html;
      lastBoardHtml = html;
    }
  } catch {
    // Keep the last board; the next refresh will try again.
  }
}
setInterval(refreshBoard, config.board_refresh_s * 1000);

// A board frame (display/board.py: waiting and estimated wait per business type, at most every
// 250 ms) whose figures differ from the buttons' re-reads the board, at most every few seconds
// (the fragment carries the translated words). A system fault opened, acknowledged or resolved
// re-reads it now (its apology and the affected businesses). A reconnect's snapshot re-reads it
// too (the first one does not: the page was just rendered with the board).
const BOARD_MIN_INTERVAL_MS = 3000;
let snapshots = 0;
let boardReadAt = 0;
let boardTimer = null;

function boardDiffers(frame) {
  return frame.business_types.some((bt) => {
    const button = board.querySelector(`[data-business="${CSS.escape(bt.code)}"]`);
    if (!button) return false;
    const waiting = button.querySelector("[data-waiting]");
    // The words' key, as queueing/wait_words.py WaitShown.key writes it.
    const shown = button.querySelector("[data-wait]");
    const w = bt.wait;
    const key = w ? `${w.kind}:${w.low ?? ""}:${w.high ?? ""}` : "";
    return (
      (waiting && waiting.dataset.waiting !== String(bt.waiting)) ||
      (shown && shown.dataset.wait !== key)
    );
  });
}

function applyBoard(frame) {
  if (!boardDiffers(frame)) return;
  clearTimeout(boardTimer);
  const due = Math.max(0, boardReadAt + BOARD_MIN_INTERVAL_MS - Date.now());
  boardTimer = setTimeout(() => {
    boardReadAt = Date.now();
    refreshBoard();
  }, due);
}

connectLive(config.live, {
  onSnapshot: () => {
    if (snapshots++ > 0) refreshBoard();
  },
  onEvent: (frame) => {
    if (String(frame.type).startsWith("incident.")) refreshBoard();
  },
  onBoard: applyBoard,
});

board.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-business]");
  if (!button || button.disabled || busy) return;
  busy = true;
  try {
    const response = await fetch(button.dataset.confirmUrl, { credentials: "same-origin" });
    if (response.status === 409) {
      // Suspended by a system fault since the board was drawn: the apology is the answer.
      failed(strings.suspended, await response.text());
      return;
    }
    if (!response.ok) throw new Error(String(response.status));
    confirmBox.innerHTML = await response.text();
    keypadTarget = null;
    // Elderly mode offers the elderly customers' priority at once (issue 17); one tap on
    // "No, thank you" takes it back.
    const elderlyLane = confirmBox.querySelector("input[name='lane_choice'][value='elderly']");
    if (elderly() && elderlyLane) elderlyLane.checked = true;
    show("confirm");
  } catch (error) {
    failed(strings.unavailable, error instanceof TypeError ? strings.network : "");
  } finally {
    busy = false;
  }
});

// ---- Confirmation: options, the on-screen keypad, issuing ------------------------------------

function form() {
  return confirmBox.querySelector("[data-confirm-form]");
}

function showFieldError(name, text) {
  const slot = confirmBox.querySelector(`[data-field-error="${name}"]`);
  if (!slot) return false;
  slot.textContent = text;
  slot.hidden = !text;
  confirmBox.querySelector(`[name="${name}"]`)?.setAttribute("aria-invalid", String(!!text));
  return true;
}

function clearErrors() {
  for (const slot of confirmBox.querySelectorAll("[data-field-error], [data-form-error]")) {
    slot.textContent = "";
    slot.hidden = true;
  }
  for (const input of confirmBox.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
  }
}

confirmBox.addEventListener("change", (event) => {
  if (event.target.name !== "lane_choice") return;
  const vip = event.target.hasAttribute("data-vip");
  const field = confirmBox.querySelector("[data-vip-field]");
  field.hidden = !vip;
  if (vip) {
    keypadTarget = field.querySelector("input");
    keypadTarget.focus();
  }
});

confirmBox.addEventListener("focusin", (event) => {
  if (event.target.matches("[data-keypad-target]")) keypadTarget = event.target;
});

confirmBox.addEventListener("click", (event) => {
  const key = event.target.closest("[data-keypad-key]");
  if (!key) return;
  const input = keypadTarget || confirmBox.querySelector("#kiosk-phone");
  const value = key.dataset.keypadKey;
  if (value === "clear") input.value = "";
  else if (value === "back") input.value = input.value.slice(0, -1);
  else if (input.value.length < Number(input.maxLength || 40)) input.value += value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
});

function issueBody(formElement) {
  const data = new FormData(formElement);
  const body = { business_type: formElement.dataset.business };
  const choice = formElement.querySelector('[name="lane_choice"]:checked');
  if (choice?.hasAttribute("data-vip")) {
    body.lane = "vip";
    body.vip_account = (data.get("vip_account") || "").trim();
  } else if (choice?.hasAttribute("data-priority-reason")) {
    body.priority_reason = choice.value;
  }
  const phone = (data.get("phone") || "").trim();
  if (phone) body.phone = phone;
  return body;
}

confirmBox.addEventListener("submit", async (event) => {
  event.preventDefault();
  const formElement = form();
  const button = formElement.querySelector("[data-issue]");
  if (button.disabled) return; // the second tap of a double tap
  button.disabled = true;
  clearErrors();
  let issued;
  try {
    issued = await api("POST", config.issue_url, {
      body: issueBody(formElement),
      key: formElement.dataset.key, // the same key for every retry of this confirmation
      headers: authHeaders,
    });
  } catch (error) {
    button.disabled = false;
    explain(error);
    return;
  }
  await showTicket(issued);
});

function explain(error) {
  const fields = error instanceof ApiError ? error.fields : {};
  if (error instanceof ApiError && error.status === 400) {
    let shown = false;
    if (fields.phone) shown = showFieldError("phone", strings.phone_invalid) || shown;
    if (fields.vip_account) shown = showFieldError("vip_account", strings.vip_required) || shown;
    if (shown) {
      confirmBox.querySelector('[aria-invalid="true"]')?.focus();
      return;
    }
  }
  if (error instanceof ApiError && error.status === 0) {
    // The ticket may or may not exist: the customer may retry; the same key issues at most one.
    const slot = confirmBox.querySelector("[data-form-error]");
    slot.textContent = `${strings.network} ${strings.ask_greeter}`;
    slot.hidden = false;
    return;
  }
  const titles = {
    hall_closed: strings.closed,
    business_type_unavailable: strings.unavailable,
    business_type_suspended: strings.suspended,
  };
  const title = titles[error?.code] || strings.failed;
  failed(title, error?.message || "");
}

function failed(title, detail) {
  document.querySelector("[data-error-title]").textContent = title;
  document.querySelector("[data-error-detail]").textContent = detail || "";
  show("error");
}

// ---- The ticket: shown on screen and printed -------------------------------------------------

async function showTicket(issued) {
  // status_url is the customer's status page /t/<token>/; its print view is /t/<token>/ticket/.
  const ticketUrl = new URL("ticket/", issued.status_url);
  ticketUrl.searchParams.set("embed", "1");
  let html = "";
  try {
    const response = await fetch(ticketUrl.pathname + ticketUrl.search, {
      credentials: "same-origin",
    });
    if (response.ok) html = await response.text();
  } catch {
    // Printed below from what we have: the ticket exists even if the page could not load it.
  }
  if (!html) {
    failed(strings.failed, issued.number);
    return;
  }
  ticketBox.innerHTML = html;
  printArea.innerHTML = html;
  show("ticket");
  print();
}

function print() {
  // Kiosk Chromium runs with --kiosk-printing: this prints at once without a dialog.
  fitPageToTicket(printArea);
  window.print();
}

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-restart]")) restart();
  if (event.target.closest("[data-print-again]")) print();
});

show("welcome");
