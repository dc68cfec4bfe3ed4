// One display's live connection: WebSocket stream first, snapshot API while the socket is down.
//
// The stream starts with a snapshot and then sends events in seq order. A hall stream's events
// are consecutive (seq = last + 1); a counter stream's carry prev_seq, the seq of that counter's
// previous event. A frame already applied is ignored; a gap asks the server for a fresh snapshot
// ({"type": "resync"}). A lost socket reconnects with exponential backoff and jitter
// (0.5 s .. 30 s) and the server starts again with a snapshot. When the socket has been down
// for more than 5 s, the page shows its "reconnecting" mark (body[data-live=reconnecting]) and
// polls the snapshot API every 5 s so the screen stays true. A socket silent for longer than two
// heartbeats and 5 s is treated as dead. A refusal (close 4401/4403/4404) is shown on screen
// (body[data-live=refused]) and retried only every 30 s.

const MIN_DELAY = 500;
const MAX_DELAY = 30000;
const REFUSED_RETRY = 30000;
const MARK_AFTER = 5000;
const POLL_EVERY = 5000;
const CONNECT_TIMEOUT = 10000;
const REFUSALS = [4401, 4403, 4404];

// The wall's {"type": "metrics"} frames and the hall streams' {"type": "board"} frames (waiting
// and estimated wait per business type, computed after commit: display/board.py) carry the seq
// the stream last sent (never a new one): they are no event, never a gap, never change lastSeq;
// they go to onMetrics (default onEvent) and onBoard (default: ignored).
export function connectLive(
  config,
  { onSnapshot, onEvent, onHeartbeat = () => {}, onMetrics, onBoard = () => {} },
) {
  const live = {
    state: "connecting",
    lastSeq: null,
    socket: null,
    attempts: 0,
    polls: 0,
    downSince: Date.now(), // never connected yet counts as down
    resync,
  };
  window.hallqLive = live; // for browser tests and for a look from the devtools console
  const watchdogMs = (2 * config.heartbeat_s + 5) * 1000;
  let lastHeard = 0;
  let resyncSentAt = null;
  let refusal = null;
  let retryTimer = null;
  let lastPoll = 0;

  function setState(state, message = "") {
    live.state = state;
    document.body.dataset.live = state;
    const slot = document.querySelector("[data-live-message]");
    if (slot) slot.textContent = message;
  }

  function socketUrl() {
    const url = new URL(config.ws, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (config.token) url.searchParams.set("token", config.token);
    return url.href;
  }

  function open() {
    clearTimeout(retryTimer);
    refusal = null;
    resyncSentAt = null;
    lastHeard = Date.now();
    const socket = new WebSocket(socketUrl());
    live.socket = socket;
    socket.onmessage = (message) => {
      if (socket !== live.socket) return;
      lastHeard = Date.now();
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      receive(frame);
    };
    socket.onclose = (close) => {
      if (socket === live.socket) lost(close.code);
    };
  }

  function receive(frame) {
    switch (frame.type) {
      case "snapshot":
        applySnapshot(frame);
        live.attempts = 0;
        live.downSince = null;
        setState("live");
        return;
      case "error":
        refusal = frame.message; // a close with its code follows
        return;
      case "heartbeat":
        if (live.lastSeq !== null && frame.seq > live.lastSeq) resync();
        onHeartbeat(frame);
        return;
      case "hall.reset":
        resync();
        return;
      case "metrics":
        if (live.lastSeq !== null && resyncSentAt === null) (onMetrics || onEvent)(frame);
        return;
      case "board":
        if (live.lastSeq !== null && resyncSentAt === null) onBoard(frame);
        return;
    }
    if (live.lastSeq === null || typeof frame.seq !== "number" || resyncSentAt !== null) return;
    if (frame.seq <= live.lastSeq) return; // already applied
    const gap =
      config.stream === "counter" ? frame.prev_seq > live.lastSeq : frame.seq > live.lastSeq + 1;
    if (gap) {
      resync();
      return;
    }
    live.lastSeq = frame.seq;
    onEvent(frame);
  }

  function applySnapshot(snapshot) {
    resyncSentAt = null;
    live.lastSeq = snapshot.seq;
    onSnapshot(snapshot);
  }

  function resync() {
    const socket = live.socket;
    if (resyncSentAt !== null || !socket || socket.readyState !== WebSocket.OPEN) return;
    resyncSentAt = Date.now();
    socket.send(JSON.stringify({ type: "resync" }));
  }

  function lost(code) {
    const socket = live.socket;
    live.socket = null;
    if (socket && socket.readyState < WebSocket.CLOSING) socket.close();
    if (live.downSince === null) live.downSince = Date.now();
    let delay;
    if (REFUSALS.includes(code)) {
      setState("refused", refusal || `${code}`);
      delay = REFUSED_RETRY;
    } else {
      const ceiling = Math.min(MAX_DELAY, MIN_DELAY * 2 ** live.attempts);
      delay = Math.min(MAX_DELAY, Math.max(MIN_DELAY, ceiling * (0.75 + Math.random() * 0.5)));
      live.attempts += 1;
      if (live.state !== "reconnecting") setState("connecting");
    }
    retryTimer = setTimeout(open, delay);
  }

  async function poll() {
    lastPoll = Date.now();
    const headers = config.token ? { Authorization: `Device ${config.token}` } : {};
    try {
      const response = await fetch(config.snapshot, {
        headers,
        credentials: "same-origin",
        cache: "no-store",
      });
      if (!response.ok || live.downSince === null) return;
      const hall = await response.json();
      if (live.downSince === null) return; // the socket came back meanwhile: its snapshot wins
      live.polls += 1;
      if (config.stream === "counter") {
        const counter = hall.counters.find((c) => c.id === config.counter);
        if (counter) applySnapshot({ ...hall, seq: counter.seq, counter });
      } else {
        applySnapshot(hall);
      }
    } catch {
      // the server is unreachable too: keep showing the mark and try again in 5 s
    }
  }

  function tick() {
    const now = Date.now();
    const socket = live.socket;
    if (socket) {
      const limit = socket.readyState === WebSocket.CONNECTING ? CONNECT_TIMEOUT : watchdogMs;
      const stuck = resyncSentAt !== null && now - resyncSentAt > CONNECT_TIMEOUT;
      if (now - lastHeard > limit || stuck) lost(1006); // silent: treat as dead, reconnect
    }
    if (live.downSince !== null && live.state !== "refused" && now - live.downSince > MARK_AFTER) {
      if (live.state !== "reconnecting") setState("reconnecting");
      if (now - lastPoll >= POLL_EVERY) poll();
    }
  }

  open();
  setInterval(tick, 1000);
  return live;
}

// Small helpers the pages share.

export function readConfig() {
  return JSON.parse(document.getElementById("display-config").textContent);
}

export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? values[key] : whole));
}

// el("div", {class: "x"}, "text", child, ...): DOM without innerHTML, so nothing is parsed as HTML.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}
