// The screen above one counter: the ticket being served and the greeted one ("请准备"), the
// apology while paused, "counter closed" while closed. The counter's number is always shown.

import { connectLive, readConfig } from "./live.js";

const config = readConfig();
const body = document.querySelector("[data-counter-body]");
const $ = (selector) => body.querySelector(selector);
let counter = null;

function render() {
  const { state, current, greeted, pause } = counter;
  let shown = state; // closed, paused, open (serving or calling) or idle
  if (state === "open" && !current) shown = "idle";
  body.dataset.state = shown;
  $("[data-serving]").textContent = current ? current.number : "";
  $("[data-greeted]").textContent = greeted ? greeted.number : "";
  $("[data-greeted-line]").hidden = !greeted;
  $("[data-apology-zh]").textContent = pause ? pause.apology_zh : "";
  $("[data-apology-en]").textContent = pause ? pause.apology_en : "";
}

connectLive(config, {
  onSnapshot(snapshot) {
    counter = snapshot.counter;
    render();
  },
  onEvent(frame) {
    const mine = (frame.counters || []).find((c) => c.id === config.counter);
    if (mine) {
      counter = mine;
      render();
    }
  },
});
