// The rating pad at a counter (counters/rating_pad.py says who may open it and why it waits).
//
// idle ──ticket.done of this counter──▶ ask ──tap a rating──▶ reason ──tap a reason, "send",
//   ▲                                   │                      │      or its wait passes──▶ thanks
//   └──────── the question's wait passes: NOTHING is recorded ─┘                             │
//   └──────────────────────────────────────────────────────────────────── after a few seconds ┘
//
// The rating is sent once, with one Idempotency-Key per ticket, so a retry after a lost answer
// records it once; "already_rated" (rated meanwhile, e.g. by staff) is thanked like a success.
// A new ticket.done while a question is open replaces it: the next customer is the one there.

import { api, ApiError, newKey } from "../hall/page.js";
import { connectLive } from "../display/live.js";

const config = JSON.parse(document.getElementById("pad-config").textContent);
const steps = [...document.querySelectorAll("[data-step]")];
const pad = { step: "idle", ticket: null, rating: null, sent: [] }; // for the browser tests
window.hallqPad = pad;
let key = null;
let timer = null;

function show(step, seconds = null) {
  pad.step = step;
  document.body.dataset.padStep = step;
  for (const section of steps) section.hidden = section.dataset.step !== step;
  const current = steps.find((section) => section.dataset.step === step);
  current.querySelector("h1")?.focus({ preventScroll: true });
  const bar = current.querySelector("[data-timer]");
  if (bar && seconds) {
    bar.classList.remove("running");
    void bar.offsetWidth; // restart the countdown animation
    bar.style.animationDuration = `${seconds}s`;
    bar.classList.add("running");
  }
}

function wait(seconds, then) {
  clearTimeout(timer);
  timer = setTimeout(then, seconds * 1000);
}

function idle() {
  clearTimeout(timer);
  pad.ticket = pad.rating = null;
  key = null;
  show("idle");
}

function ask(ticket) {
  pad.ticket = { id: ticket.id, number: ticket.number };
  pad.rating = null;
  key = newKey();
  document.querySelector("[data-ticket-number]").textContent = ticket.number;
  for (const button of document.querySelectorAll("[data-rating]")) {
    button.setAttribute("aria-pressed", "false");
  }
  show("ask", config.question_s);
  wait(config.question_s, idle); // no answer: nothing is recorded
}

function reasonButton(reason) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "pad-reason-button";
  button.dataset.reason = reason.code;
  const zh = document.createElement("span");
  zh.className = "pad-rating-zh";
  zh.textContent = reason.zh;
  const en = document.createElement("span");
  en.className = "pad-rating-en";
  en.lang = "en";
  en.textContent = reason.en;
  button.append(zh, en);
  button.addEventListener("click", () => send(reason.code));
  return button;
}

function choose(rating, button) {
  if (pad.step !== "ask") return;
  pad.rating = rating;
  button.setAttribute("aria-pressed", "true");
  const reasons = rating === "dissatisfied" ? config.reasons.negative : config.reasons.positive;
  document.querySelector("[data-reasons]").replaceChildren(...reasons.map(reasonButton));
  show("reason", config.reason_s);
  wait(config.reason_s, () => send("")); // a rating was given: record it, without a reason
}

async function send(reason) {
  if (pad.step !== "reason" || !pad.ticket) return;
  clearTimeout(timer);
  pad.step = "sending";
  const ticket = pad.ticket;
  const url = config.rating_url.replace("{id}", ticket.id);
  const headers = config.token ? { Authorization: `Device ${config.token}` } : {};
  const body = { rating: pad.rating };
  if (reason) body.reason = reason;
  let outcome = "thanks";
  try {
    await api("POST", url, { body, key, headers });
  } catch (error) {
    const alreadyRated = error instanceof ApiError && error.code === "already_rated";
    if (!alreadyRated) outcome = "failed";
  }
  pad.sent.push({ ticket: ticket.id, rating: body.rating, reason, outcome });
  if (pad.ticket !== ticket) return; // a new customer's question replaced it meanwhile
  show(outcome);
  wait(config.thanks_s, idle);
}

for (const button of document.querySelectorAll("[data-rating]")) {
  button.addEventListener("click", () => choose(button.dataset.rating, button));
}
document.querySelector("[data-send]").addEventListener("click", () => send(""));

connectLive(config, {
  onSnapshot() {},
  onEvent(frame) {
    if (frame.counter?.id !== config.counter || !frame.ticket) return;
    if (frame.type === "ticket.done") {
      ask(frame.ticket);
    } else if (
      frame.type === "rating.recorded" &&
      pad.ticket?.id === frame.ticket.id &&
      (pad.step === "ask" || pad.step === "reason")
    ) {
      show("thanks"); // rated elsewhere meanwhile
      wait(config.thanks_s, idle);
    }
  },
});
show("idle");
