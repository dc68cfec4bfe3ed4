// Acknowledge and Resolve a system fault: one logic for the clerk console's fault banner
// (incidents.js) and the manager's wall (display/wall.js). Both pages render buttons
// [data-incident-acknowledge="<id>"] and [data-incident-resolve="<id>"] (for whom
// hall.access.offers_incident_handling says) and include counters/_resolve_dialog.html;
// both call the incidents API (/api/v1/incidents/<id>/acknowledge|resolve/), whose admission
// (hall.access HANDLE_INCIDENT) decides. The page is told after each action (onDone) and
// shows the result at once; its live stream carries it to every other screen.
import { api, newKey, toast } from "/static/hall/page.js";

const idUrl = (template, id) => template.replace("/0/", `/${id}/`);

// root: where the buttons are (clicks are delegated: the page may re-render them at will).
// config: {acknowledge, resolve: URL templates with /0/ for the id, strings: {acknowledged,
// resolved}}. describe(button): the words the resolve dialog repeats (which fault).
// onDone({action, id, incident}): after each try; incident is the API's answer, or null.
export function incidentActions({ root, config, describe, onDone = () => {} }) {
  const dialog = document.getElementById("resolve-dialog");
  let resolving = null;
  let resolveKey = null; // one Idempotency-Key per opening of the dialog: a retry resolves once
  let opener = null;

  root.addEventListener("click", async (event) => {
    const acknowledge = event.target.closest("[data-incident-acknowledge]");
    const resolve = event.target.closest("[data-incident-resolve]");
    if (acknowledge) {
      const id = acknowledge.dataset.incidentAcknowledge;
      acknowledge.disabled = true;
      let incident = null;
      try {
        incident = await api("POST", idUrl(config.acknowledge, id), { body: {} });
        toast(config.strings.acknowledged, "ok");
      } catch (error) {
        toast(error.message, "error", 6000);
        acknowledge.disabled = false;
      }
      await onDone({ action: "acknowledge", id, incident });
    } else if (resolve && dialog) {
      resolving = resolve.dataset.incidentResolve;
      resolveKey = newKey();
      opener = resolve;
      const form = dialog.querySelector("form");
      form.reset();
      dialog.querySelector("[data-resolve-what]").textContent = describe ? describe(resolve) : "";
      dialog.showModal();
      dialog.querySelector("textarea").focus();
    }
  });

  if (!dialog) return;
  const form = dialog.querySelector("form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = form.querySelector('[type="submit"]');
    submit.disabled = true;
    let incident = null;
    try {
      incident = await api("POST", idUrl(config.resolve, resolving), {
        body: { resolution: new FormData(form).get("resolution") || "" },
        key: resolveKey,
      });
      dialog.close();
      toast(config.strings.resolved, "ok");
    } catch (error) {
      toast(error.message, "error", 6000);
    } finally {
      submit.disabled = false;
    }
    await onDone({ action: "resolve", id: resolving, incident });
  });
  dialog.querySelector("[data-dialog-cancel]").addEventListener("click", () => dialog.close());
  // Back to where the manager was (the button may have been re-rendered: its twin by id).
  dialog.addEventListener("close", () => {
    const twin =
      opener && !opener.isConnected
        ? root.querySelector(`[data-incident-resolve="${resolving}"]`)
        : opener;
    twin?.focus();
  });
}
