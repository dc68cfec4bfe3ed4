// The screen above one counter: the ticket being served and the greeted one ("请准备"), the
// apology while paused, "counter closed" while closed. The counter's number is always shown.
// While a system fault (incident) affects a business type this counter serves, its apology
// shows above the rest (the stream sends such a counter the incident's events; the snapshot
// carries the open ones that concern it).

import { connectLive, fill, readConfig } from "./live.js";

const config = readConfig();
const t = config.labels;
const body = document.querySelector("[data-counter-body]");
const $ = (selector) => body.querySelector(selector);
let counter = null;
let incidents = new Map(); // open incidents that affect this counter, by id

function concernsMe(incident) {
  const codes = config.business_types || [];
  return incident.business_types === null || incident.business_types.some((c) => codes.includes(c));
}

function render() {
  const { state, current, greeted, pause } = counter;
  let shown = state; // closed, paused, open (serving or calling) or idle
  if (state === "open" && !current) shown = "idle";
  body.dataset.state = shown;
  $("[data-serving]").textContent = current ? current.number : "";
  // Issue 16: called is not serving ("请到3号窗口" until the clerk starts, "正在办理" after).
  const called = current && current.status === "called";
  const label = called ? t.called_to : t.now_serving;
  $("[data-serving-zh]").textContent = fill(label.zh, { n: counter.number });
  $("[data-serving-en]").textContent = fill(label.en, { n: counter.number });
  $("[data-serving-label]").dataset.status = current ? current.status : "";
  // Issue 16: a recalled customer sees which call this is ("第2次呼叫 / Call #2").
  const recalls = called ? current.recall_count || 0 : 0;
  $("[data-call-count]").hidden = !recalls;
  $("[data-call-count-zh]").textContent = recalls ? fill(t.call_n.zh, { n: recalls + 1 }) : "";
  $("[data-call-count-en]").textContent = recalls ? fill(t.call_n.en, { n: recalls + 1 }) : "";
  $("[data-greeted]").textContent = greeted ? greeted.number : "";
  $("[data-greeted-line]").hidden = !greeted;
  $("[data-apology-zh]").textContent = pause ? pause.apology_zh : "";
  $("[data-apology-en]").textContent = pause ? pause.apology_en : "";
  renderIncident(shown);
}

function renderIncident(shown) {
  const open = [...incidents.values()].sort((a, b) => a.id - b.id);
  // Paused or closed, the screen already apologises or says the counter is shut.
  const show = open.length > 0 && (shown === "open" || shown === "idle");
  const box = $("[data-counter-incident]");
  box.hidden = !show;
  body.classList.toggle("has-incident", show);
  const first = open.find((i) => i.mode === "unavailable") || open[0];
  $("[data-incident-zh]").textContent = show ? first.apology_zh : "";
  $("[data-incident-en]").textContent = show ? first.apology_en : "";
}

connectLive(config, {
  onSnapshot(snapshot) {
    counter = snapshot.counter;
    // The stream's snapshot holds this counter's incidents; the hall's (read while the socket
    // is down) holds all of them.
    incidents = new Map((snapshot.incidents || []).filter(concernsMe).map((i) => [i.id, i]));
    render();
  },
  onEvent(frame) {
    const mine = (frame.counters || []).find((c) => c.id === config.counter);
    if (mine) counter = mine;
    if (frame.incident) {
      if (frame.type === "incident.resolved") incidents.delete(frame.incident.id);
      else incidents.set(frame.incident.id, frame.incident);
    }
    if (mine || frame.incident) render();
  },
});
