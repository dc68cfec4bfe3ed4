// The manager's wall: waiting by business type and lane, the day's figures, satisfaction,
// complaints, alerts and incidents, the counters strip, and a chart of today by hour against
// a typical day (uPlot, vendored in hall/static/hall/vendor).
//
// The page boots from the figures the server put in it, then lives on the wall stream
// (live.js: the same reconnect, stale mark and snapshot polling as the lobby display). The
// stream's snapshot and its "metrics" frames carry the full figures; the ticket events in
// between move the waiting counts at once. Between messages every wait and pause duration
// ticks each second from the figures' time ("at") on the server's clock, so the wall stays
// correct to the second, and a business type turns "over target" the second its longest wait
// passes the target. Every colour comes with an icon and words: nothing is said by colour alone.

//
// The wall acts too (issue 17): a manager acknowledges and resolves a fault here with the
// console's own code (counters/static/counters/incident_actions.js: the same API and rule),
// and each alert or fault links to what it is about: the business's row or the counter's tile
// (scrolled to, highlighted, focused) and that counter's console and display.

import { incidentActions } from "/static/counters/incident_actions.js";
import { connectLive, el, fill, readConfig } from "./live.js";

const config = readConfig();
const t = config.labels;
const $ = (selector) => document.querySelector(selector);
const ICON = { ok: "✓", bad: "⚠", stop: "✖", serving: "▶", idle: "○", paused: "‖", closed: "✕" };
// Chart colours on the wall's dark panel (#141e33): each at least 3:1 against it.
const COLORS = {
  arrivals: "#6cb6ff",
  arrivalsFill: "rgba(108, 182, 255, 0.45)",
  waiting: "#ffd23f",
  level: "#5ee08a",
  target: "#c9d3e6",
  axis: "#dfe6f3",
  grid: "rgba(201, 211, 230, 0.18)",
};

const state = {
  metrics: config.metrics,
  metricsSeq: -1, // the seq the figures are current to (-1: the page's own, before any frame)
  hourly: config.hourly,
  hourlyReadAt: Date.now(),
  clockOffset: Date.parse(config.metrics.at) - Date.now(), // server clock minus this screen's
};
window.hallqWall = state; // for browser tests and for a look from the devtools console
let tickers = []; // (serverNowMs) => void, rebuilt by every render
let chart = null;
const JUMP_MS = 8000; // how long a jumped-to row or tile stays highlighted
let jumped = null; // {target: "bt:<code>" | "counter:<n>" | "queue", until: ms}

// ---- Formatting ------------------------------------------------------------------------------

const pad = (n) => String(n).padStart(2, "0");

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

function percent(share) {
  return share === null || share === undefined ? "–" : `${Math.round(share * 100)}%`;
}

function serverNow() {
  return Date.now() + state.clockOffset;
}

// Seconds since the figures were read, on the server's clock.
function sinceFigures(now) {
  return Math.max(0, (now - Date.parse(state.metrics.at)) / 1000);
}

function secondsSince(iso, now) {
  return iso ? Math.max(0, (now - Date.parse(iso)) / 1000) : null;
}

function mark(kind, text) {
  return el("span", { class: `mark ${kind}` }, el("span", { "aria-hidden": "true" }, ICON[kind]), ` ${text}`);
}

function named(item) {
  return config.language === "en" ? item.name_en : item.name_zh;
}

function inLanguage(item, field) {
  return item[`${field}_${config.language}`] || item[`${field}_zh`] || "";
}

// ---- Rendering ---------------------------------------------------------------------------

function render() {
  tickers = [];
  const m = state.metrics;
  // The rows, tiles and issues are built anew: whoever works the wall with a keyboard keeps
  // their place (the element with the same data-focus-key gets the focus back).
  const focused = document.activeElement?.closest?.("[data-focus-key]")?.dataset.focusKey;
  renderWaitingKpi(m);
  renderDayKpis(m);
  renderQueue(m);
  renderIssues(m);
  renderCounters(m);
  showJumped();
  if (focused && !document.querySelector("dialog[open]")) {
    document.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`)?.focus({ preventScroll: true });
  }
  tick();
}

function renderWaitingKpi(m) {
  const w = m.waiting;
  $("[data-waiting-total]").textContent = String(w.total);
  const times = $("[data-waiting-times]");
  tickers.push((now) => {
    const grow = w.total ? sinceFigures(now) : 0;
    const longest = w.longest_wait_s === null ? null : w.longest_wait_s + grow;
    const mean = w.mean_wait_s === null ? null : w.mean_wait_s + grow;
    times.replaceChildren(
      el("span", { class: longest > m.target_wait_s ? "bad-text" : "" }, `${t.longest} ${duration(longest)}`),
      " · ",
      `${t.mean} ${duration(mean)}`,
    );
  });
  $("[data-waiting-lanes]").replaceChildren(
    el("span", { class: "lane-chip vip" }, `${t.vip} ${w.by_lane.vip}`),
    el("span", { class: "lane-chip priority" }, `${t.priority} ${w.by_lane.priority}`),
    el("span", { class: "lane-chip normal" }, `${t.normal} ${w.by_lane.normal}`),
  );
}

function levelMark(share) {
  if (share === null || share === undefined) return el("span", { class: "mark none" }, t.no_data);
  return share >= config.service_level_target
    ? mark("ok", t.on_target)
    : mark("bad", t.below_target);
}

function levelIcon(share) {
  const ok = share >= config.service_level_target;
  return el("span", { class: `mark ${ok ? "ok" : "bad"}`, title: ok ? t.on_target : t.below_target }, ICON[ok ? "ok" : "bad"]);
}

function renderDayKpis(m) {
  const today = m.today;
  const target = Math.round(config.service_level_target * 100);
  const level = $("[data-level-today]");
  level.textContent = percent(today.service_level);
  setBad(level.closest(".kpi"), isBelow(today.service_level, config.service_level_target));
  level.append(el("span", { class: "kpi-target" }, fill(t.target_percent, { p: target })));
  $("[data-level-status]").replaceChildren(levelMark(today.service_level));
  const lastHour = $("[data-level-hour]");
  const hourLevel = today.service_level_last_hour;
  lastHour.replaceChildren(`${t.last_hour} ${percent(hourLevel)} `, hourLevel === null ? "" : levelIcon(hourLevel));

  $("[data-served-mean]").textContent = duration(today.mean_wait_s);
  $("[data-served-p90]").textContent = `${t.p90} ${duration(today.p90_wait_s)}`;
  $("[data-served-target]").textContent = `${t.target_wait} ${duration(m.target_wait_s)}`;
  for (const node of document.querySelectorAll("[data-today]")) {
    node.textContent = String(today[node.dataset.today] ?? "–");
  }

  const s = m.satisfaction;
  const score = $("[data-satisfaction]");
  score.textContent = s.score === null ? "–" : String(Math.round(s.score));
  const low = isBelow(s.score, s.target);
  setBad(score.closest(".kpi"), low);
  score.append(el("span", { class: "kpi-target" }, fill(t.target_score, { n: s.target })));
  $("[data-satisfaction-status]").replaceChildren(
    s.score === null
      ? el("span", { class: "mark none" }, t.no_data)
      : low
        ? mark("bad", t.below_target)
        : mark("ok", t.on_target),
  );
  $("[data-satisfaction-count]").textContent = fill(t.ratings, { n: s.ratings });

  const c = m.complaints;
  for (const node of document.querySelectorAll("[data-complaints]")) {
    const key = node.dataset.complaints;
    node.replaceChildren(
      c[key] && key !== "open"
        ? el("span", { class: "bad-text" }, el("span", { "aria-hidden": "true" }, `${ICON.bad} `), String(c[key]))
        : String(c[key] ?? "–"),
    );
  }
  setBad($("[data-kpi='complaints']"), c.overdue > 0);
}

function isBelow(value, target) {
  return value !== null && value !== undefined && value < target;
}

function setBad(node, bad) {
  node.classList.toggle("bad", Boolean(bad));
}

function renderQueue(m) {
  const rows = m.waiting.by_business_type.map((bt) => {
    const longest = el("td", { class: "num time" });
    const mean = el("td", { class: "num time" });
    const status = el("td", { class: "status" });
    const row = el(
      "tr",
      {
        "data-business-type": bt.code,
        id: `wall-bt-${bt.code}`,
        tabindex: "-1",
        "data-focus-key": `bt:${bt.code}`,
        "data-jump-target": `bt:${bt.code}`,
      },
      el(
        "th",
        { scope: "row" },
        el("span", { class: "prefix" }, bt.prefix),
        el("span", { class: "bt-name" }, named(bt)),
      ),
      el("td", { class: "num waiting", "data-waiting": bt.waiting }, String(bt.waiting)),
      el("td", { class: "num lane" }, String(bt.by_lane.vip)),
      el("td", { class: "num lane" }, String(bt.by_lane.priority)),
      el("td", { class: "num lane" }, String(bt.by_lane.normal)),
      longest,
      mean,
      el("td", { class: "num estimate" }, estimate(bt)),
      status,
    );
    // Too many waiting for it (the hall's threshold): its open alert marks the row too.
    const crowded = m.alerts.some((a) => a.kind === "many_waiting" && a.subject === `bt:${bt.code}`);
    tickers.push((now) => {
      const grow = bt.waiting ? sinceFigures(now) : 0;
      const longestNow = bt.longest_wait_s === null ? null : bt.longest_wait_s + grow;
      longest.textContent = duration(longestNow);
      mean.textContent = duration(bt.mean_wait_s === null ? null : bt.mean_wait_s + grow);
      const over = bt.waiting > 0 && (bt.over_target || longestNow > m.target_wait_s);
      // Issue 16: people waiting and no open counter for them is never "on target".
      const unserved = bt.waiting > 0 && bt.counters_open === 0;
      row.classList.toggle("over", over || crowded || unserved);
      row.classList.toggle("unavailable", bt.unavailable);
      const wanted = bt.unavailable
        ? "unavailable"
        : unserved
          ? "unserved"
          : over
          ? "over"
          : crowded
            ? "crowded"
            : bt.waiting
              ? "ok"
              : "quiet";
      if (status.dataset.status !== wanted) {
        status.dataset.status = wanted;
        status.replaceChildren(
          wanted === "unavailable"
            ? mark("stop", t.unavailable)
            : wanted === "unserved"
              ? mark("stop", t.no_counter_open)
              : wanted === "over"
              ? mark("bad", t.over_target)
              : wanted === "crowded"
                ? mark("bad", t.crowded)
                : wanted === "ok"
                ? mark("ok", t.on_target)
                : el("span", { class: "mark none" }, t.nobody),
        );
      }
    });
    return row;
  });
  const body = $("[data-queue]");
  body.style.setProperty("--rows", Math.max(rows.length, 1));
  body.replaceChildren(...rows);
}

function estimate(bt) {
  if (bt.estimated_wait_s === null) return el("span", { class: "muted-text" }, t.no_counter);
  return fill(t.minutes, { m: Math.ceil(bt.estimated_wait_s / 60) });
}

function renderIssues(m) {
  const items = [];
  for (const alert of m.alerts) {
    const suggestion = inLanguage(alert, "suggestion");
    items.push(
      el(
        "li",
        { class: "issue alert", "data-alert": alert.kind, "data-alert-id": alert.id },
        el("p", { class: "issue-head" }, mark("bad", inLanguage(alert, "message"))),
        alert.kind === "no_counter_open" ? firstWaiting(m, alert.subject) : null,
        suggestion ? el("p", { class: "issue-suggestion" }, `→ ${suggestion}`) : null,
        alertLinks(m, alert),
      ),
    );
  }
  for (const incident of m.incidents) {
    const since = el("span", { class: "issue-time" });
    tickers.push((now) => {
      since.textContent = fill(t.for_minutes, { d: duration(secondsSince(incident.opened_at, now)) });
    });
    const types =
      incident.business_types === null
        ? t.incident_all
        : incident.business_types.map((code) => typeName(m, code)).join(", ");
    items.push(
      el(
        "li",
        { class: "issue incident", "data-incident": incident.id },
        el("p", { class: "issue-head" }, mark("stop", `${incident.kind_label} · ${types}`), " ", since),
        el(
          "div",
          { class: "issue-suggestion issue-row" },
          incident.acknowledged_at
            ? el("span", { "data-acknowledged": "" }, t.acknowledged)
            : mark("bad", t.unacknowledged),
          incidentButtons(incident),
        ),
        incidentLinks(m, incident),
      ),
    );
  }
  if (!m.alerts.length) items.push(el("li", { class: "issue calm" }, mark("ok", t.no_alerts)));
  if (!m.incidents.length) items.push(el("li", { class: "issue calm" }, mark("ok", t.no_incidents)));
  $("[data-issues]").replaceChildren(...items);
}

// ---- Acting on a fault, going to what an alert is about ---------------------------------------

function incidentButtons(incident) {
  if (!config.incidents.buttons) return null;
  return el(
    "span",
    { class: "issue-actions" },
    incident.acknowledged_at
      ? null
      : el(
          "button",
          {
            type: "button",
            class: "wall-button",
            "data-incident-acknowledge": incident.id,
            "data-focus-key": `ack:${incident.id}`,
          },
          t.acknowledge,
        ),
    el(
      "button",
      {
        type: "button",
        class: "wall-button resolve",
        "data-incident-resolve": incident.id,
        "data-focus-key": `resolve:${incident.id}`,
      },
      t.resolve,
    ),
  );
}

// A link to a row or tile of this page: scrolls to it, highlights it and gives it the focus
// (jumpTo); the href makes it work as a plain anchor too.
function jumpLink(target, text, key) {
  const id = target === "queue" ? "queue-title" : `wall-${target.replace(":", "-")}`;
  return el(
    "a",
    { class: "jump", href: `#${id}`, "data-jump": target, "data-focus-key": `${key}>${target}` },
    text,
  );
}

function counterLinks(number, key) {
  const links = config.counter_links[String(number)];
  if (!links) return [];
  return [
    el("a", { class: "jump page", href: links.console, "data-focus-key": `${key}>console:${number}` }, fill(t.open_console, { n: number })),
    el("a", { class: "jump page", href: links.display, target: "_blank", rel: "noopener", "data-focus-key": `${key}>display:${number}` }, fill(t.open_display, { n: number })),
  ];
}

function jumpNav(key, links) {
  const shown = links.filter(Boolean);
  if (!shown.length) return null;
  return el("p", { class: "issue-jumps" }, el("span", { class: "jumps-label" }, t.go_to), ...shown);
}

function alertLinks(m, alert) {
  const key = `alert:${alert.id}`;
  const links = [];
  const bt = alert.business_type && m.waiting.by_business_type.find((b) => b.code === alert.business_type);
  if (bt) links.push(jumpLink(`bt:${bt.code}`, `${bt.prefix} ${named(bt)}`, key));
  if (alert.counter) {
    links.push(jumpLink(`counter:${alert.counter}`, fill(t.counter_n, { n: alert.counter }), key));
    links.push(...counterLinks(alert.counter, key));
  }
  for (const number of alert.suggested_counters || []) {
    if (number !== alert.counter) {
      links.push(jumpLink(`counter:${number}`, fill(t.counter_n, { n: number }), key));
    }
  }
  return jumpNav(key, links);
}

function incidentLinks(m, incident) {
  const key = `incident:${incident.id}`;
  if (incident.business_types === null) return jumpNav(key, [jumpLink("queue", t.go_all_business, key)]);
  return jumpNav(
    key,
    incident.business_types.map((code) => {
      const bt = m.waiting.by_business_type.find((b) => b.code === code);
      return bt ? jumpLink(`bt:${code}`, `${bt.prefix} ${named(bt)}`, key) : null;
    }),
  );
}

function jumpTo(target) {
  jumped = { target, until: Date.now() + JUMP_MS };
  showJumped();
  const node =
    target === "queue"
      ? $("[data-queue]").closest("section")
      : document.querySelector(`[data-jump-target="${CSS.escape(target)}"]`);
  if (!node) return;
  node.scrollIntoView({ block: "nearest", behavior: "smooth" });
  (target === "queue" ? $("[data-queue] tr") || node : node).focus({ preventScroll: true });
}

// The highlight outlives re-renders until its time is up.
function showJumped() {
  const active = jumped && jumped.until > Date.now() ? jumped.target : null;
  for (const node of document.querySelectorAll(".jumped")) {
    if (node.dataset.jumpTarget !== active && !(active === "queue" && node.matches(".queue"))) {
      node.classList.remove("jumped");
    }
  }
  if (!active) return;
  if (active === "queue") $("[data-queue]").closest("section").classList.add("jumped");
  else document.querySelector(`[data-jump-target="${CSS.escape(active)}"]`)?.classList.add("jumped");
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-jump]");
  if (!link) return;
  event.preventDefault();
  jumpTo(link.dataset.jump);
});
setInterval(showJumped, 1000);

incidentActions({
  root: $("[data-issues]"),
  config: config.incidents,
  describe: (button) => button.closest("[data-incident]")?.querySelector(".issue-head")?.textContent || "",
  // The wall shows the answer at once; the stream's incident.* frame and the metrics frame
  // after it say the same to every other wall, console, lobby and kiosk.
  onDone: ({ incident }) => {
    if (incident) applyIncident(incident);
  },
});

function applyIncident(incident) {
  const list = state.metrics.incidents;
  const index = list.findIndex((i) => i.id === incident.id);
  if (incident.resolved_at) {
    if (index < 0) return;
    list.splice(index, 1);
  } else if (index >= 0) {
    list[index] = { ...list[index], acknowledged_at: incident.acknowledged_at };
  } else {
    list.unshift(incident);
  }
  render();
}

// Who waits for a business no open counter serves: priority customers (VIP, elderly,
// disabled, ...) first, each with their wait ticking, as the metrics list them.
function firstWaiting(m, subject) {
  const bt = m.waiting.by_business_type.find((b) => `bt:${b.code}` === subject);
  if (!bt || !bt.first_waiting || !bt.first_waiting.length) return null;
  const chips = bt.first_waiting.map((ticket) => {
    const wait = el("span", { class: "issue-time" });
    tickers.push((now) => {
      wait.textContent = duration(ticket.wait_s + sinceFigures(now));
    });
    const label = inLanguage(ticket, "reason") || (ticket.lane === "normal" ? "" : t[ticket.lane]);
    return el(
      "span",
      { class: `waiting-chip ${ticket.lane}`, "data-first-waiting": ticket.number },
      `${ticket.number}${label ? ` ${label}` : ""} `,
      wait,
    );
  });
  const more = bt.waiting - bt.first_waiting.length;
  return el(
    "p",
    { class: "issue-waiting" },
    `${t.first_waiting} `,
    ...chips,
    more > 0 ? fill(t.and_more, { n: more }) : null,
  );
}

function typeName(m, code) {
  const bt = m.waiting.by_business_type.find((b) => b.code === code);
  return bt ? named(bt) : code;
}

function renderCounters(m) {
  const c = m.counters;
  $("[data-counter-summary]").textContent = [
    fill(t.open_counters, { n: c.open }),
    `${t.serving} ${c.serving}`,
    `${t.idle} ${c.idle}`,
    `${t.paused} ${c.paused}`,
    `${t.closed} ${c.closed}`,
  ].join(" · ");
  const tiles = [...c.list]
    .sort((a, b) => a.number - b.number)
    .map((counter) => {
      const time = el("span", { class: "tile-time" });
      const tile = el(
        "li",
        {
          class: `counter-tile ${counter.state}`,
          "data-counter": counter.number,
          id: `wall-counter-${counter.number}`,
          tabindex: "-1",
          "data-focus-key": `counter:${counter.number}`,
          "data-jump-target": `counter:${counter.number}`,
        },
        el("span", { class: "tile-number" }, String(counter.number)),
        el(
          "span",
          { class: "tile-state" },
          el("span", { "aria-hidden": "true" }, `${ICON[counter.state]} `),
          t[counter.state],
        ),
        el(
          "span",
          { class: "tile-detail" },
          counter.state === "serving" && counter.ticket ? el("strong", {}, counter.ticket) : null,
          counter.state === "paused" && counter.pause ? pauseLabel(counter.pause) : null,
        ),
        time,
        el("span", { class: "tile-clerk" }, counter.clerk || ""),
      );
      if (counter.state !== "closed") {
        tickers.push((now) => {
          const since = counter.state === "paused" && counter.pause ? counter.pause.since : counter.since;
          const seconds = secondsSince(since, now);
          const long = counter.state === "paused" && seconds > config.pause_alert_s;
          tile.classList.toggle("long", long);
          time.textContent = seconds === null ? "" : `${long ? `${ICON.bad} ` : ""}${duration(seconds)}`;
        });
      }
      return tile;
    });
  const list = $("[data-counters]");
  list.style.setProperty("--count", Math.max(tiles.length, 1));
  list.replaceChildren(...tiles);
}

function pauseLabel(pause) {
  return (
    (config.language === "en" ? pause.reason_label_en : pause.reason_label_zh) ||
    pause.reason_label ||
    pause.reason
  );
}

function tick() {
  const now = serverNow();
  for (const ticker of tickers) ticker(now);
  const date = new Date(now);
  const locale = config.language === "en" ? "en-GB" : "zh-CN";
  $("[data-clock]").textContent = date.toLocaleTimeString("zh-CN", {
    timeZone: config.timezone,
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  });
  $("[data-date]").textContent = date.toLocaleDateString(locale, {
    timeZone: config.timezone,
    month: "long",
    day: "numeric",
    weekday: "short",
  });
}

// ---- The live figures -------------------------------------------------------------------

function applyMetrics(metrics, seq) {
  state.metrics = metrics;
  if (typeof seq === "number") state.metricsSeq = seq;
  render();
}

function onSnapshot(frame) {
  // The stream's snapshot carries "metrics"; while the socket is down live.js polls the
  // metrics API, whose answer is the figures themselves.
  const metrics = frame.metrics || (frame.waiting ? frame : null);
  const now = frame.now || (metrics && metrics.at);
  if (now) state.clockOffset = Date.parse(now) - Date.now();
  if (metrics) applyMetrics(metrics, frame.seq);
  if (frame.type === "snapshot") refreshHourly(10000); // (re)connected: the chart too
}

function onMetrics(frame) {
  if (!frame.metrics) return;
  state.clockOffset = Date.parse(frame.at || frame.metrics.at) - Date.now();
  applyMetrics(frame.metrics, frame.seq);
}

// A board frame between metrics frames (display/board.py, at most every 250 ms) moves the
// waiting counts and estimates per business type at once; the next metrics frame (a few
// seconds later) brings the rest.
function onBoard(frame) {
  if (!state.metrics) return;
  const w = state.metrics.waiting;
  let changed = false;
  for (const board of frame.business_types) {
    const bt = w.by_business_type.find((b) => b.code === board.code);
    if (!bt) continue;
    if (bt.waiting !== board.waiting) changed = true;
    bt.waiting = board.waiting;
    bt.estimated_wait_s = board.estimated_wait_s;
    if (!bt.waiting) bt.longest_wait_s = bt.mean_wait_s = null;
  }
  if (!changed) return;
  w.total = w.by_business_type.reduce((sum, bt) => sum + bt.waiting, 0);
  if (!w.total) w.longest_wait_s = w.mean_wait_s = null;
  render();
}

// An event between metrics frames: issue, call and cancel move the lane counts. The next
// metrics frame (a few seconds later) brings the rest.
function onEvent(frame) {
  if (frame.type === "metrics") {
    onMetrics(frame);
    return;
  }
  if (frame.seq <= state.metricsSeq) return; // the figures already hold it
  if (frame.incident && String(frame.type).startsWith("incident.")) {
    applyIncident(frame.incident);
    return;
  }
  const w = state.metrics.waiting;
  let changed = false;
  const ticket = frame.ticket;
  const lanesOf = (code) => w.by_business_type.find((b) => b.code === code)?.by_lane;
  if (ticket && ticket.lane in w.by_lane) {
    const step = frame.type === "ticket.issued" ? 1 : ["ticket.called", "ticket.cancelled"].includes(frame.type) ? -1 : 0;
    if (step) {
      w.by_lane[ticket.lane] = Math.max(0, w.by_lane[ticket.lane] + step);
      const lanes = lanesOf(ticket.business_type);
      if (lanes) lanes[ticket.lane] = Math.max(0, lanes[ticket.lane] + step);
      changed = true;
    }
  }
  if (changed) render();
}

// ---- The chart ------------------------------------------------------------------------------

async function refreshHourly(minAgeMs = 0) {
  if (Date.now() - state.hourlyReadAt < minAgeMs) return;
  state.hourlyReadAt = Date.now();
  try {
    const response = await fetch(config.hourly_url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    state.hourly = await response.json();
    drawChart();
  } catch {
    // the server is unreachable: keep the chart; the next minute tries again
  }
}

function rem() {
  return parseFloat(getComputedStyle(document.documentElement).fontSize) || 20;
}

function drawChart() {
  const box = $("[data-chart]");
  if (!box || typeof uPlot === "undefined" || !state.hourly) return;
  const data = state.hourly;
  // Legend and note first: the plot takes the height they leave.
  chartLegend(data);
  const note = $("[data-chart-note]");
  note.hidden = data.typical_days.length > 0;
  note.textContent = t.no_history;
  const hours = data.hours.map((row) => row.hour);
  const today = (key) => data.hours.map((row) => row.today[key]);
  const usual = (key) => data.hours.map((row) => row.typical[key]);
  const asPercent = (values) => values.map((v) => (v === null ? null : Math.round(v * 1000) / 10));
  const x = hours.map((_, i) => i + 0.5);
  const label = (h) => `${pad(h)}:00`;
  const size = rem();
  const font = `600 ${Math.round(size * 0.8)}px system-ui, sans-serif`;
  const k = size / 20; // line widths and spacing grow with the screen (2 on a 4K TV)
  const counts = [...today("arrivals"), ...usual("arrivals"), ...today("waiting"), ...usual("waiting")];
  const top = Math.max(5, ...counts.filter((v) => v !== null));
  const typical = (name) => fill(t.typical, { name }); // the series' names, for uPlot
  const series = [
    { label: "", value: (u, v) => (v === null ? "–" : label(hours[Math.floor(v)] ?? 0)) },
    {
      label: t.arrivals,
      scale: "n",
      stroke: COLORS.arrivals,
      fill: COLORS.arrivalsFill,
      width: 2 * k,
      paths: uPlot.paths.bars({ size: [0.6, 80 * k] }),
      points: { show: false },
    },
    { label: typical(t.arrivals), scale: "n", stroke: COLORS.arrivals, width: 2 * k, dash: [6 * k, 6 * k], points: { show: false } },
    { label: t.chart_waiting, scale: "n", stroke: COLORS.waiting, width: 4 * k, points: { size: 8 * k, fill: COLORS.waiting } },
    { label: typical(t.chart_waiting), scale: "n", stroke: COLORS.waiting, width: 2 * k, dash: [6 * k, 6 * k], points: { show: false } },
    { label: t.chart_level, scale: "%", stroke: COLORS.level, width: 4 * k, points: { size: 8 * k, fill: COLORS.level } },
    { label: typical(t.chart_level), scale: "%", stroke: COLORS.level, width: 2 * k, dash: [6 * k, 6 * k], points: { show: false } },
    {
      label: fill(t.target_percent, { p: Math.round(data.service_level_target * 100) }),
      scale: "%",
      stroke: COLORS.target,
      width: 1 * k,
      dash: [2 * k, 6 * k],
      points: { show: false },
    },
  ];
  const values = [
    x,
    today("arrivals"),
    usual("arrivals"),
    today("waiting"),
    usual("waiting"),
    asPercent(today("service_level")),
    asPercent(usual("service_level")),
    hours.map(() => data.service_level_target * 100),
  ];
  const axis = {
    stroke: COLORS.axis,
    font,
    labelFont: font,
    space: 30 * k,
    grid: { stroke: COLORS.grid, width: k },
    ticks: { stroke: COLORS.grid, width: k, size: 8 * k },
  };
  const opts = {
    width: Math.max(200, box.clientWidth),
    height: Math.max(120, box.clientHeight),
    series,
    legend: { show: false }, // our own, one line: see chartLegend()
    scales: {
      x: { time: false, range: [0, hours.length] },
      n: { range: [0, Math.ceil((top * 1.15) / 5) * 5] },
      "%": { range: [0, 100] },
    },
    axes: [
      {
        ...axis,
        splits: () => x.filter((_, i) => hours.length <= 12 || hours[i] % 2 === 0),
        values: (u, splits) => splits.map((v) => label(hours[Math.floor(v)])),
        size: size * 1.8,
      },
      { ...axis, scale: "n", label: t.people, size: size * 3, labelSize: size * 1.2 },
      { ...axis, scale: "%", side: 1, label: t.percent, grid: { show: false }, size: size * 2.6, labelSize: size * 1.2 },
    ],
    cursor: { show: false },
  };
  if (chart) chart.destroy();
  box.replaceChildren();
  chart = new uPlot(opts, values, box);
}

// One line under the title: what each colour and line style means (uPlot's own legend lists
// all eight series and took half the chart's height).
function chartLegend(data) {
  const item = (kind, text) =>
    el("li", {}, el("span", { class: `swatch ${kind}`, "aria-hidden": "true" }), text);
  $("[data-chart-legend]").replaceChildren(
    item("arrivals", t.arrivals),
    item("waiting", t.chart_waiting),
    item("level", t.chart_level),
    item("typical", t.typical_day),
    item("target", fill(t.target_percent, { p: Math.round(data.service_level_target * 100) })),
  );
}

// ---- Start ------------------------------------------------------------------------------------

render();
setInterval(tick, 1000);
if (document.readyState === "complete") drawChart();
else window.addEventListener("load", drawChart);
let resizeTimer;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(drawChart, 200);
});
setInterval(() => refreshHourly(), config.hourly_refresh_s * 1000);

connectLive(config, {
  onSnapshot,
  onEvent,
  onMetrics,
  onBoard,
  onHeartbeat: (frame) => {
    if (frame.now) state.clockOffset = Date.parse(frame.now) - Date.now();
  },
});
