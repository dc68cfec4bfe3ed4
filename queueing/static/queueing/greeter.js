// The greeter tablet: issue for a customer, the queue by business type, cancel and transfer.
// Writes go through the JSON API with one Idempotency-Key per intent (a double tap or a retry
// acts once); the queue is a server-rendered fragment, re-read (debounced) when the hall's live
// stream moves and at once after the greeter's own action. Every string on screen comes from
// the page (config.strings): none is written here.

import { api, newKey, toast } from "../hall/page.js";
import { connectLive, fill } from "../display/live.js";

const config = JSON.parse(document.getElementById("greeter-config").textContent);
const t = config.strings;
const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

const urlFor = (template, id) => template.replace(String(config.id), String(id));

// Issue 16: the words of a wait come with the board (queueing/wait_words.py).
function waitText(w) {
  return fill(t[`wait_${w.kind}`], { m: w.high, low: w.low, high: w.high });
}

// ---- The queue fragment ----------------------------------------------------------------------

const queue = $("#queue");
let refreshTimer = null;
let refreshWhenClosed = false;

function refreshNow() {
  clearTimeout(refreshTimer);
  // Not under an open cancel/transfer dialog: its ticket row would vanish from under it.
  if ($("dialog[data-cancel-dialog][open], dialog[data-transfer-dialog][open]")) {
    refreshWhenClosed = true;
    return;
  }
  window.htmx.ajax("GET", config.queue, { target: queue, swap: "innerHTML" });
}

function refreshSoon(delay = 300) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshNow, delay);
}

// A board frame (display/board.py, at most every 250 ms) moves each type's estimated wait in
// place; the waiting counts come with the fragment each event re-reads.
function applyBoard(frame) {
  for (const bt of frame.business_types) {
    const wait = $(`#type-stats-${CSS.escape(bt.code)} .type-wait`);
    if (wait) wait.textContent = waitText(bt.wait);
  }
}

connectLive(config.live, {
  onSnapshot: () => refreshSoon(),
  onEvent: () => refreshSoon(),
  onBoard: applyBoard,
});
setInterval(() => refreshSoon(0), 30000); // the minutes waited move on

// ---- Issue -------------------------------------------------------------------------------------

const form = $("[data-issue-form]");
const issueButton = $("[data-issue-button]");
const issueError = $("[data-issue-error]");
const issued = $("dialog[data-issued-dialog]");
let issueKey = newKey();
let issuing = false;

function showLaneExtras() {
  const lane = form.elements.lane.value;
  for (const extra of $$("[data-lane-extra]", form)) {
    extra.hidden = extra.dataset.laneExtra !== lane;
  }
}

// Any change is a new intent, so a new key; a retry of the same form keeps the old one.
form.addEventListener("input", () => {
  issueKey = newKey();
  issueError.textContent = "";
});
form.addEventListener("change", () => {
  issueKey = newKey();
  showLaneExtras();
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (issuing) return;
  const data = new FormData(form);
  const body = { business_type: data.get("business_type"), lane: data.get("lane") };
  if (!body.business_type) {
    issueError.textContent = t.choose_type;
    $("input[name=business_type]:not(:disabled)", form)?.focus();
    return;
  }
  if (body.lane === "priority") {
    body.priority_reason = data.get("priority_reason");
    if (!body.priority_reason) {
      issueError.textContent = t.choose_reason;
      $("input[name=priority_reason]", form).focus();
      return;
    }
  }
  if (body.lane === "vip" && data.get("vip_account").trim()) {
    body.vip_account = data.get("vip_account").trim();
  }
  if (data.get("phone").trim()) body.phone = data.get("phone").trim();

  issuing = true;
  issueButton.disabled = true;
  try {
    const ticket = await api("POST", config.issue, { body, key: issueKey });
    showIssued(ticket);
    form.reset();
    showLaneExtras();
    issueKey = newKey();
    refreshNow();
  } catch (error) {
    issueError.textContent = error.message;
  } finally {
    issuing = false;
    issueButton.disabled = false;
  }
});

function showIssued(ticket) {
  const chosen = $(`input[name=business_type][value="${ticket.business_type}"]`, form);
  $("[data-issued-number]", issued).textContent = ticket.number;
  $("[data-issued-type]", issued).textContent = chosen ? chosen.dataset.name : "";
  $("[data-issued-ahead]", issued).textContent = ticket.people_ahead;
  $("[data-issued-wait]", issued).textContent = waitText(ticket.wait);
  $("[data-issued-print]", issued).href = urlFor(config.print, ticket.id);
  issued.showModal();
  $("[data-issued-print]", issued).focus();
}

// ---- Cancel and transfer ---------------------------------------------------------------------

const cancelDialog = $("dialog[data-cancel-dialog]");
const transferDialog = $("dialog[data-transfer-dialog]");
let target = null; // {id, number, key} of the ticket the open dialog acts on

function openDialog(dialog, row) {
  target = { id: row.dataset.ticketId, number: row.dataset.number, key: newKey() };
  const dialogForm = $("form", dialog);
  dialogForm.reset();
  $("[data-dialog-number]", dialog).textContent = target.number;
  $("[data-dialog-error]", dialog).textContent = "";
  if (dialog === transferDialog) {
    const allowed = new Set(row.dataset.transferTo.split(" ").filter(Boolean));
    for (const choice of $$("[data-destination]", dialog)) {
      choice.hidden = !allowed.has(choice.dataset.destination);
    }
  }
  dialog.showModal();
}

queue.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const row = button.closest("[data-ticket-id]");
  openDialog(button.dataset.action === "cancel" ? cancelDialog : transferDialog, row);
});

for (const dialog of $$("dialog")) {
  for (const close of $$("[data-close]", dialog)) {
    close.addEventListener("click", () => dialog.close());
  }
  dialog.addEventListener("close", () => {
    if (refreshWhenClosed) {
      refreshWhenClosed = false;
      refreshSoon(0);
    }
  });
}

// A dialog's form: validate, call the API once per opening (its key), close and refresh.
function onConfirm(dialog, build) {
  const dialogForm = $("form", dialog);
  const confirm = $("[data-confirm]", dialog);
  const error = $("[data-dialog-error]", dialog);
  dialogForm.addEventListener("change", () => {
    if (target) target.key = newKey();
  });
  dialogForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!target || confirm.disabled) return;
    const request = build(new FormData(dialogForm));
    if (request.error) {
      error.textContent = request.error;
      return;
    }
    confirm.disabled = true;
    try {
      await api("POST", urlFor(request.url, target.id), { body: request.body, key: target.key });
      toast(request.done, "ok");
      refreshWhenClosed = false;
      dialog.close();
      refreshNow();
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      confirm.disabled = false;
    }
  });
}

onConfirm(cancelDialog, (data) => ({
  url: config.cancel,
  body: { reason: data.get("reason").trim() },
  done: fill(t.cancelled, { number: target.number }),
}));

onConfirm(transferDialog, (data) => {
  const code = data.get("business_type");
  if (!code) return { error: t.choose_destination };
  const name = $(`input[name=business_type][value="${code}"]`, transferDialog).dataset.name;
  return {
    url: config.transfer,
    body: { business_type: code, reason: data.get("reason").trim() },
    done: fill(t.transferred, { number: target.number, name }),
  };
});
