// The customer's status page: re-read the status card every few seconds and swap it in when it
// changed; stop once the ticket is finished (the card carries data-final). No text of its own:
// the card is rendered by the server in the customer's language.

const live = document.querySelector("[data-status-live]");

function card() {
  return live.querySelector(".status-card");
}

function applyTitle() {
  const title = card()?.dataset.title;
  if (title) document.title = title;
}

async function poll() {
  if (!card() || card().hasAttribute("data-final")) return;
  let html = null;
  try {
    const response = await fetch(live.dataset.cardUrl, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    if (response.ok || response.status === 404) html = await response.text();
  } catch {
    // Offline for a moment (a phone in a lift): keep what is shown and ask again later.
  }
  // Compare as the browser serialises both, so an unchanged card is left alone and a screen
  // reader does not read it out again every few seconds.
  const fresh = document.createElement("template");
  if (html !== null) fresh.innerHTML = html.trim();
  if (html !== null && fresh.innerHTML !== live.innerHTML.trim()) {
    const before = card()?.dataset.status;
    live.innerHTML = fresh.innerHTML;
    applyTitle();
    if (card()?.dataset.status === "called" && before !== "called" && navigator.vibrate) {
      navigator.vibrate([300, 150, 300]);
    }
  }
  if (!card()?.hasAttribute("data-final")) {
    setTimeout(poll, Number(live.dataset.pollS || 5) * 1000);
  }
}

if (live) {
  applyTitle();
  setTimeout(poll, Number(live.dataset.pollS || 5) * 1000);
}
