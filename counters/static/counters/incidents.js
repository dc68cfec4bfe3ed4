// System faults in the clerk console: the apology banner, the "report a fault" dialog (key I),
// and a manager's Acknowledge and Resolve (incident_actions.js, one logic with the manager's
// wall). Everything goes through the incidents API; the banner is a server-rendered fragment re-read after each action and on every incident.* frame of the
// console's live streams (console.js re-dispatches them as "hallq:frame" events).
import { api, newKey, toast } from "/static/hall/page.js";
import { incidentActions } from "./incident_actions.js";

const config = JSON.parse(document.getElementById("incidents-config").textContent);
const strings = config.strings;
const box = document.getElementById("incidents");
const faultDialog = document.getElementById("fault-dialog");
const faultForm = faultDialog.querySelector("[data-fault-form]");
const openButton = document.querySelector("[data-fault-open]");
let faultKey = null; // one Idempotency-Key per opening of the dialog: a retry reports once

// --- the banner ---------------------------------------------------------------------------

async function refresh() {
  try {
    const response = await fetch(config.fragment, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "text/html" },
    });
    if (response.ok) box.innerHTML = await response.text();
  } catch {
    // offline: the live mark says so; the next frame reads again
  }
}

document.addEventListener("hallq:frame", (event) => {
  const frame = event.detail || {};
  if (frame.type === "snapshot" || String(frame.type).startsWith("incident.")) refresh();
});

incidentActions({
  root: box,
  config,
  describe: (button) =>
    button.closest("[data-incident]")?.querySelector(".incident-apology p")?.textContent || "",
  onDone: refresh,
});

// --- reporting a fault --------------------------------------------------------------------

function openReport() {
  faultForm.reset();
  faultKey = newKey();
  showError("");
  faultDialog.showModal();
  faultForm.querySelector('input[name="kind"]:checked')?.focus();
}

function showError(text, slot = "[data-fault-error]") {
  for (const node of faultForm.querySelectorAll("[data-fault-error], [data-fault-types-error]")) {
    node.hidden = true;
    node.textContent = "";
  }
  if (!text) return;
  const node = faultForm.querySelector(slot);
  node.textContent = text;
  node.hidden = false;
}

// "All business types" and the single types exclude each other.
faultForm.addEventListener("change", (event) => {
  const all = faultForm.querySelector("[data-fault-all]");
  const types = [...faultForm.querySelectorAll("[data-fault-type]")];
  if (event.target === all && all.checked) {
    for (const type of types) type.checked = false;
  } else if (event.target.matches("[data-fault-type]")) {
    all.checked = !types.some((type) => type.checked);
  }
});

faultForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(faultForm);
  const body = {
    kind: data.get("kind"),
    severity: data.get("severity"),
    mode: data.get("mode"),
    description: (data.get("description") || "").trim(),
  };
  if (!data.get("all_types")) {
    body.business_types = data.getAll("business_types");
    if (!body.business_types.length) {
      showError(strings.choose_types, "[data-fault-types-error]");
      return;
    }
  }
  const submit = faultForm.querySelector('[type="submit"]');
  submit.disabled = true;
  try {
    await api("POST", config.report, { body, key: faultKey });
    faultDialog.close();
    toast(strings.reported, "ok", 6000);
  } catch (error) {
    showError(error.message);
  } finally {
    submit.disabled = false;
  }
  await refresh();
});

openButton.addEventListener("click", openReport);

faultDialog.querySelector("[data-dialog-cancel]").addEventListener("click", () => faultDialog.close());

// I: report a fault (the console's other keys are in console.js; same rules: not while typing,
// not with a dialog open, no modifier).
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  if (event.key.toLowerCase() !== "i" || document.querySelector("dialog[open]")) return;
  const target = event.target;
  const typing =
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName));
  if (typing) return;
  event.preventDefault();
  openReport();
});
