// The counter list: signing in at a counter opens it (POST /api/v1/counters/<id>/open/), then
// its console opens. Refusals (taken meanwhile, signed in elsewhere) show the server's message.
import { api, newKey, toast } from "/static/hall/page.js";

for (const button of document.querySelectorAll("[data-open-counter]")) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api("POST", `/api/v1/counters/${button.dataset.openCounter}/open/`, { key: newKey() });
      location.assign(button.dataset.console);
    } catch (error) {
      toast(error.message, "error", 6000);
      button.disabled = false;
    }
  });
}
