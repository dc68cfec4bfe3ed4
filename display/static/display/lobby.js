// The lobby display: latest calls, each open counter's window, the queue per business type,
// notices (apologies of paused counters), the hall's clock, and the voice.

import { connectLive, el, fill, readConfig } from "./live.js";
import { createVoice } from "./voice.js";

const FRESH_MS = 8000; // the newest call stays highlighted this long
const NOTICE_ROTATE_MS = 8000;
const CALL_ROWS = 5;

const config = readConfig();
const t = config.labels;
const $ = (selector) => document.querySelector(selector);
const voice = createVoice(t, $("[data-sound-toggle]"));

const state = {
  hall: null,
  businessTypes: [],
  counters: new Map(),
  calls: [],
  freshSeq: null,
  clockOffset: 0, // server clock minus this screen's
  noticeIndex: 0,
};
let freshTimer = null;

function both(key, values = {}) {
  return [fill(t[key].zh, values), el("span", { lang: "en" }, fill(t[key].en, values))];
}

function markFresh(call, ageMs) {
  clearTimeout(freshTimer);
  if (!call || ageMs > FRESH_MS) {
    state.freshSeq = null;
    return;
  }
  state.freshSeq = call.seq;
  freshTimer = setTimeout(() => {
    state.freshSeq = null;
    renderCalls();
  }, FRESH_MS - Math.max(ageMs, 0));
}

function onSnapshot(snapshot) {
  state.hall = snapshot.hall;
  state.businessTypes = snapshot.business_types;
  state.counters = new Map(snapshot.counters.map((c) => [c.id, c]));
  state.calls = snapshot.recent_calls;
  state.clockOffset = Date.parse(snapshot.now) - Date.now();
  const newest = state.calls[0];
  markFresh(newest, newest ? Date.parse(snapshot.now) - Date.parse(newest.at) : Infinity);
  render();
}

function onEvent(frame) {
  for (const counter of frame.counters || []) state.counters.set(counter.id, counter);
  if (frame.business_types) state.businessTypes = frame.business_types;
  if (frame.call) {
    state.calls = [frame.call, ...state.calls.filter((c) => c.seq !== frame.call.seq)].slice(0, 8);
    markFresh(frame.call, 0);
  }
  if (frame.type === "ticket.called" || frame.type === "ticket.recalled") {
    voice.announce(frame, state.hall && state.hall.announce_english);
  }
  render();
}

function render() {
  $("[data-hall-name]").textContent = state.hall.name;
  renderCalls();
  renderCounters();
  renderBoard();
  renderNotice();
}

function renderCalls() {
  const list = $("[data-calls]");
  if (!state.calls.length) {
    list.replaceChildren(el("p", { class: "empty" }, ...both("no_calls")));
    return;
  }
  const [newest, ...older] = state.calls;
  const fresh = newest.seq === state.freshSeq;
  const hero = el(
    "div",
    { class: `call-hero${fresh ? " fresh" : ""}`, "data-call-number": newest.number },
    el("div", { class: "call-hero-number" }, newest.number),
    el(
      "div",
      { class: "call-hero-counter" },
      el("span", { class: "call-hero-go" }, ...both("please_go_to")),
      el("strong", {}, fill(t.counter_n.zh, { n: newest.counter })),
      el("span", { lang: "en" }, fill(t.counter_n.en, { n: newest.counter })),
    ),
    newest.recall ? el("div", { class: "call-recall" }, ...both("recall")) : null,
  );
  const rows = older.slice(0, CALL_ROWS).map((call) =>
    el(
      "li",
      { "data-call-number": call.number },
      el("span", { class: "call-number" }, call.number),
      el("span", { class: "call-arrow" }, "→"),
      el(
        "span",
        { class: "call-counter" },
        fill(t.counter_n.zh, { n: call.counter }),
        el("span", { lang: "en" }, fill(t.counter_n.en, { n: call.counter })),
      ),
    ),
  );
  list.replaceChildren(hero, el("ol", { class: "call-rows" }, rows));
}

function ticketCell(ticket, className) {
  return el("td", { class: className }, ticket ? ticket.number : "—");
}

function renderCounters() {
  const shown = [...state.counters.values()]
    .filter((c) => c.state !== "closed")
    .sort((a, b) => a.number - b.number);
  const rows = shown.map((c) => {
    const head = el(
      "th",
      { scope: "row" },
      el("span", { class: "counter-no" }, String(c.number)),
      c.name ? el("span", { class: "counter-tag" }, c.name) : null,
    );
    if (c.state === "paused") {
      return el(
        "tr",
        { class: "paused", "data-counter": c.number },
        head,
        el("td", { colspan: 3, class: "paused-cell" }, ...both("paused")),
      );
    }
    return el(
      "tr",
      { "data-counter": c.number },
      head,
      ticketCell(c.current, "current"),
      ticketCell(c.greeted, "greeted"),
      ticketCell(c.attended, "attended"),
    );
  });
  if (!rows.length) {
    rows.push(el("tr", {}, el("td", { colspan: 4, class: "empty" }, ...both("no_counters"))));
  }
  const body = $("[data-counters]");
  body.style.setProperty("--rows", Math.max(rows.length, 1));
  body.replaceChildren(...rows);
}

function renderBoard() {
  const tiles = state.businessTypes.map((bt) => {
    const minutes = bt.estimated_wait_s === null ? null : Math.ceil(bt.estimated_wait_s / 60);
    const wait =
      bt.waiting === 0 || minutes === 0
        ? both("no_wait")
        : minutes === null
          ? ["—"]
          : both("wait_about", { m: minutes });
    return el(
      "div",
      { class: `tile${bt.waiting ? "" : " quiet"}`, "data-business-type": bt.code },
      el("div", { class: "tile-prefix" }, bt.prefix),
      el(
        "div",
        { class: "tile-name" },
        bt.name_zh,
        el("span", { lang: "en" }, bt.name_en),
      ),
      el(
        "div",
        { class: "tile-waiting" },
        el("strong", { "data-waiting": bt.waiting }, String(bt.waiting)),
        el("span", {}, t.waiting.zh, el("span", { lang: "en" }, t.waiting.en)),
      ),
      el("div", { class: "tile-wait" }, ...wait),
    );
  });
  $("[data-board]").replaceChildren(...tiles);
}

// Apologies of paused counters now; later issues add system faults here.
function notices() {
  return [...state.counters.values()]
    .filter((c) => c.state === "paused" && c.pause)
    .sort((a, b) => a.number - b.number)
    .map((c) => ({
      zh: `${fill(t.counter_n.zh, { n: c.number })}:${c.pause.apology_zh}`,
      en: `${fill(t.counter_n.en, { n: c.number })}: ${c.pause.apology_en}`,
    }));
}

function renderNotice() {
  const all = notices();
  const bar = $("[data-notice]");
  if (!all.length) {
    bar.className = "notice";
    bar.replaceChildren(
      el("div", { class: "notice-zh" }, t.welcome.zh),
      el("div", { class: "notice-en", lang: "en" }, t.welcome.en),
    );
    return;
  }
  const notice = all[state.noticeIndex % all.length];
  bar.className = "notice alert";
  bar.replaceChildren(
    el("div", { class: "notice-label" }, t.notice.zh, el("span", { lang: "en" }, t.notice.en)),
    el(
      "div",
      { class: "notice-text" },
      el("div", { class: "notice-zh" }, notice.zh),
      el("div", { class: "notice-en", lang: "en" }, notice.en),
    ),
  );
  if (all.length > 1) {
    const position = `${(state.noticeIndex % all.length) + 1}/${all.length}`;
    bar.append(el("div", { class: "notice-count" }, position));
  }
}

function renderClock() {
  const now = new Date(Date.now() + state.clockOffset);
  const zone = config.timezone;
  $("[data-clock-time]").textContent = now.toLocaleTimeString("zh-CN", {
    timeZone: zone,
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  });
  const date = { timeZone: zone, month: "long", day: "numeric", weekday: "long" };
  $("[data-clock-date]").textContent = [
    now.toLocaleDateString("zh-CN", { ...date, year: "numeric" }),
    now.toLocaleDateString("en-GB", { ...date, weekday: "short", month: "short" }),
  ].join("  ");
}

renderClock();
setInterval(renderClock, 1000);
setInterval(() => {
  state.noticeIndex += 1;
  if (state.hall) renderNotice();
}, NOTICE_ROTATE_MS);

connectLive(config, {
  onSnapshot,
  onEvent,
  onHeartbeat: (frame) => {
    if (frame.now) state.clockOffset = Date.parse(frame.now) - Date.now();
  },
});
