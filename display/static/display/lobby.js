// The lobby display: latest calls, each open counter's window, the queue per business type,
// notices (apologies of paused counters), the hall's clock, and the voice.
//
// System faults (incidents): while any is open, an apology banner in Chinese and English sits
// under the header and the board flags each affected business type. incident.opened is
// announced once by voice (the apology, in English too if the hall announces in English);
// incident.resolved takes the banner down, shows "service restored" for a minute and says so
// once. A snapshot (first load, reconnect) shows the banner but says nothing: it is not news.

import { connectLive, el, fill, readConfig } from "./live.js";
import { createVoice } from "./voice.js";

const FRESH_MS = 8000; // the newest call stays highlighted this long
const NOTICE_ROTATE_MS = 8000;
const CALL_ROWS = 5;
const RESTORED_MS = 60000; // how long "service restored" stays up after the last resolution
const REQUEUED_MS = 30000; // how long "A003, you are still first in line" stays in the notice bar
const BANNER_ROWS = 2; // incidents shown at once; more are counted ("+1")

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
  noticeShownAt: 0,
  noticeFocus: null, // the key of a notice to show next, whatever the rotation's turn
  incidents: new Map(), // open ones, by id
  restoredUntil: 0,
};
let freshTimer = null;
let restoredTimer = null;
let requeuedTimer = null;
const announced = new Set(); // "opened:12", "resolved:12": each said once

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
  state.incidents = new Map((snapshot.incidents || []).map((i) => [i.id, i]));
  state.clockOffset = Date.parse(snapshot.now) - Date.now();
  const newest = state.calls[0];
  markFresh(newest, newest ? Date.parse(snapshot.now) - Date.parse(newest.at) : Infinity);
  render();
}

function onEvent(frame) {
  for (const counter of frame.counters || []) {
    state.counters.set(counter.id, counter);
    if (frame.type === "counter.paused") state.noticeFocus = `counter:${counter.id}`;
  }
  if (frame.call) {
    state.calls = [frame.call, ...state.calls.filter((c) => c.seq !== frame.call.seq)].slice(0, 8);
    markFresh(frame.call, 0);
  }
  if (frame.type === "ticket.called" || frame.type === "ticket.recalled") {
    voice.announce(frame, state.hall && state.hall.announce_english);
  }
  if (frame.type === "ticket.requeued" && frame.ticket) {
    // Back to the front of the queue: the call no longer stands; tell the customer so.
    state.calls = state.calls.filter((c) => c.number !== frame.ticket.number);
    state.requeued = { number: frame.ticket.number, until: Date.now() + REQUEUED_MS };
    state.noticeFocus = "requeued";
    clearTimeout(requeuedTimer);
    requeuedTimer = setTimeout(renderNotice, REQUEUED_MS + 50);
    const english = state.hall && state.hall.announce_english;
    voice.say(
      [
        { text: fill(t.voice_requeued.zh, { number: frame.ticket.number }), lang: "zh-CN" },
        english
          ? { text: fill(t.voice_requeued.en, { number: frame.ticket.number }), lang: "en-US" }
          : null,
      ].filter(Boolean),
    );
  }
  if (frame.incident) onIncident(frame);
  render();
}

// The board (display/board.py): waiting and estimated wait per business type, after commit.
function onBoard(frame) {
  state.businessTypes = frame.business_types;
  render();
}

function onIncident(frame) {
  const incident = frame.incident;
  const english = state.hall && state.hall.announce_english;
  if (frame.type === "incident.resolved" || incident.resolved_at) {
    state.incidents.delete(incident.id);
    if (frame.type === "incident.resolved") {
      state.restoredUntil = Date.now() + RESTORED_MS;
      clearTimeout(restoredTimer);
      restoredTimer = setTimeout(renderIncidents, RESTORED_MS + 50);
      sayOnce(`resolved:${incident.id}`, [
        { text: t.voice_restored.zh, lang: "zh-CN" },
        english ? { text: t.voice_restored.en, lang: "en-US" } : null,
      ]);
    }
    return;
  }
  state.incidents.set(incident.id, incident);
  if (frame.type === "incident.opened") {
    sayOnce(`opened:${incident.id}`, [
      { text: incident.apology_zh, lang: "zh-CN" },
      english ? { text: incident.apology_en, lang: "en-US" } : null,
    ]);
  }
}

function sayOnce(key, lines) {
  if (announced.has(key)) return;
  announced.add(key);
  voice.say(lines.filter(Boolean));
}

function affecting(code) {
  const open = [...state.incidents.values()].filter(
    (i) => i.business_types === null || i.business_types.includes(code),
  );
  return open.find((i) => i.mode === "unavailable") || open[0] || null;
}

function render() {
  $("[data-hall-name]").textContent = state.hall.name;
  renderIncidents();
  renderCalls();
  renderCounters();
  renderBoard();
  renderNotice();
}

// Issue 16: a call is shown only while its counter is open: nobody is sent to a paused or
// closed counter. A customer sent back to the front of the queue leaves the list too.
function shownCalls() {
  const open = new Set(
    [...state.counters.values()].filter((c) => c.state === "open").map((c) => c.number),
  );
  return state.calls.filter((call) => open.has(call.counter));
}

function renderCalls() {
  const list = $("[data-calls]");
  const calls = shownCalls();
  if (!calls.length) {
    list.replaceChildren(el("p", { class: "empty" }, ...both("no_calls")));
    return;
  }
  const [newest, ...older] = calls;
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
    newest.recall
      ? el("div", { class: "call-recall" }, ...both("call_n", { n: newest.call_count || 2 }))
      : null,
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

// Issue 16: called is not serving. "请到3号窗口 / Please go to counter 3" until the clerk
// starts, "正在办理 / Now serving" after.
function currentCell(counter) {
  const ticket = counter.current;
  if (!ticket) return el("td", { class: "current" }, "—");
  const called = ticket.status === "called";
  return el(
    "td",
    { class: `current ${called ? "is-called" : "is-serving"}`, "data-status": ticket.status },
    el("span", { class: "current-number" }, ticket.number),
    el(
      "span",
      { class: "current-word" },
      ...(called ? both("called_to", { n: counter.number }) : both("now_serving")),
    ),
  );
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
      currentCell(c),
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
    // Issue 16: one honest wait, worded by the server (queueing/wait_words.py): no counter
    // open, unknown, no wait, within m min, about low–high min, or about m min.
    const w = bt.wait;
    const wait = both(`wait_${w.kind}`, { m: w.high, low: w.low, high: w.high });
    const incident = affecting(bt.code);
    const flag = incident
      ? incident.mode === "unavailable"
        ? ["suspended", both("suspended")]
        : ["warned", both("may_take_longer")]
      : null;
    return el(
      "div",
      {
        class: `tile${bt.waiting ? "" : " quiet"}${flag ? ` tile-${flag[0]}` : ""}`,
        "data-business-type": bt.code,
        "data-incident": flag ? flag[0] : null,
      },
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
      flag
        ? el("div", { class: "tile-flag" }, ...flag[1])
        : el("div", { class: "tile-wait" }, ...wait),
    );
  });
  $("[data-board]").replaceChildren(...tiles);
}

function renderIncidents() {
  const banner = $("[data-incidents]");
  const open = [...state.incidents.values()].sort((a, b) => a.id - b.id);
  const restored = !open.length && Date.now() < state.restoredUntil;
  document.body.classList.toggle("has-incident", open.length > 0 || restored);
  banner.hidden = !open.length && !restored;
  if (restored) {
    banner.className = "incident-banner restored";
    banner.replaceChildren(
      el("div", { class: "incident-label" }, el("span", { class: "incident-icon" }, "✓")),
      el(
        "div",
        { class: "incident-text" },
        el("div", { class: "incident-zh" }, `${t.restored.zh}  ${t.restored_thanks.zh}`),
        el("div", { class: "incident-en", lang: "en" }, `${t.restored.en}. ${t.restored_thanks.en}`),
      ),
    );
    return;
  }
  if (!open.length) {
    banner.replaceChildren();
    return;
  }
  banner.className = "incident-banner";
  const rows = open.slice(0, BANNER_ROWS).map((incident) =>
    el(
      "div",
      { class: "incident-text", "data-incident": incident.id, "data-mode": incident.mode },
      el("div", { class: "incident-zh" }, incident.apology_zh),
      el("div", { class: "incident-en", lang: "en" }, incident.apology_en),
    ),
  );
  const more = open.length - BANNER_ROWS;
  banner.replaceChildren(
    el(
      "div",
      { class: "incident-label" },
      el("span", { class: "incident-icon", "aria-hidden": "true" }, "!"),
      el("span", {}, t.incident.zh),
      el("span", { lang: "en" }, t.incident.en),
    ),
    el("div", { class: "incident-rows" }, rows),
    ...(more > 0 ? [el("div", { class: "incident-more" }, `+${more}`)] : []),
  );
}

// Apologies of paused counters (system faults have their own banner, above).
function notices() {
  const all = [...state.counters.values()]
    .filter((c) => c.state === "paused" && c.pause)
    .sort((a, b) => a.number - b.number)
    .map((c) => ({
      key: `counter:${c.id}`,
      zh: `${fill(t.counter_n.zh, { n: c.number })}:${c.pause.apology_zh}`,
      en: `${fill(t.counter_n.en, { n: c.number })}: ${c.pause.apology_en}`,
    }));
  const requeued = state.requeued;
  if (requeued && requeued.until > Date.now()) {
    all.unshift({
      key: "requeued",
      zh: fill(t.requeued.zh, { number: requeued.number }),
      en: fill(t.requeued.en, { number: requeued.number }),
    });
  }
  return all;
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
  // A notice just posted (a counter pausing, a customer put back first) shows at once,
  // not after the others' turns in the rotation.
  const fresh = all.findIndex((n) => n.key === state.noticeFocus);
  if (fresh >= 0) {
    state.noticeIndex = fresh;
    state.noticeShownAt = Date.now(); // and it gets its full turn
  }
  state.noticeFocus = null;
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
  if (Date.now() - state.noticeShownAt < NOTICE_ROTATE_MS) return;
  state.noticeIndex += 1;
  state.noticeShownAt = Date.now();
  if (state.hall) renderNotice();
}, 1000);

connectLive(config, {
  onSnapshot,
  onEvent,
  onBoard,
  onHeartbeat: (frame) => {
    if (frame.now) state.clockOffset = Date.parse(frame.now) - Date.now();
  },
});
