"""/wall/<hall>/: the duty manager's wall, a TV (1080p or 4K) read from across the back office.

The page boots from the figures of this moment (``display.wall.metrics.hall_metrics`` and the
chart's ``display.wall.trends.hall_hourly``, in the page), then lives on the wall stream
(``/ws/halls/<hall>/wall/``, through ``static/display/live.js``, as the lobby display does):
its snapshot and ``metrics`` frames carry the figures, the events in between move the waiting
counts at once. While the socket is down the page shows the reconnecting mark and polls the
metrics API; the chart is re-read every minute and after a reconnect. Waits and pause durations
tick every second between messages, from the figures' time (``at``) and the server's clock.

Staff of the hall by session: managers and clerks (the wall may hang where both see it). Anyone
else signed in gets the shared refusal page that says why; no device tokens: the figures name
clerks.

The wall acts too (issue 17): a manager acknowledges and resolves a fault from it, through the
incidents API and the console's own script (``counters/static/counters/incident_actions.js``),
offered to whom ``hall.access.offers_incident_handling`` says, as on the console. Each alert and
fault links to what it is about: the business's row, the counter's tile (highlighted, focused),
and that counter's console and display.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from counters.models import Counter
from counters.views.incidents import incident_actions_config
from display.wall.metrics import SATISFACTION_TARGET, hall_metrics
from display.wall.trends import hall_hourly
from hall.access import OPEN_WALL, admit_to_hall, offers_incident_handling
from hall.models import Hall
from hall.views import refusal_page

SCREEN = gettext_lazy("Hall wall")
HOURLY_REFRESH_S = 60


def _labels() -> dict:
    """What wall.js writes on screen, in the page's language. ``{name}`` is filled in there."""
    return {
        "waiting": _("Waiting"),
        "longest": _("Longest"),
        "mean": _("Mean"),
        "estimate": _("New ticket waits"),
        "minutes": _("{m} min"),
        "last_hour": _("Last hour"),
        "p90": _("90% within"),
        "target_wait": _("Target wait"),
        "vip": _("VIP"),
        "priority": _("Priority"),
        "normal": _("Normal"),
        "over_target": _("Over target"),
        "crowded": _("Too many waiting"),
        "unavailable": _("Unavailable"),
        "no_counter": _("No counter serves it"),
        "no_counter_open": _("No counter open for this service"),
        "first_waiting": _("Waiting, priority first:"),
        "and_more": _("and {n} more"),
        "nobody": _("Nobody waiting"),
        "on_target": _("On target"),
        "below_target": _("Below target"),
        "target_percent": _("target {p}%"),
        "target_score": _("target {n}"),
        "no_data": _("not yet"),
        "ratings": _("{n} ratings"),
        "serving": _("Serving"),
        "idle": _("Idle"),
        "paused": _("Paused"),
        "closed": _("Closed"),
        "counter_n": _("Counter {n}"),
        "open_counters": _("{n} open"),
        "no_incidents": _("No open incidents"),
        "no_alerts": _("No alerts"),
        "acknowledged": _("acknowledged"),
        "unacknowledged": _("not acknowledged"),
        "incident_all": _("all business"),
        "for_minutes": _("for {d}"),
        "arrivals": _("Arrivals"),
        "chart_waiting": _("Waiting at the hour's end"),
        "chart_level": _("Service level (%)"),
        "typical": _("{name}, typical day"),
        "typical_day": _("Typical day (dashed)"),
        "people": _("people"),
        "percent": "%",
        "no_history": _("No typical day yet: no tickets on this weekday in the last four weeks."),
        "acknowledge": _("Acknowledge"),
        "resolve": _("Resolve…"),
        "go_to": _("Show:"),
        "go_all_business": _("All business"),
        "open_console": _("Console of counter {n}"),
        "open_display": _("Display of counter {n}"),
    }


def counter_links(*, hall: Hall) -> dict[str, dict[str, str]]:
    """For each counter (by number) the pages an alert may open: its console and its display
    (the wall's manager or clerk may open both: hall.access OPEN_CONSOLE and SEE_HALL)."""
    return {
        str(number): {
            "console": reverse("console-counter", args=[pk]),
            "display": reverse("display:counter", args=[hall.code, number]),
        }
        for pk, number in Counter.objects.filter(hall=hall).values_list("pk", "number")
    }


@login_required
@refusal_page(screen=SCREEN)
def wall_page(request, hall: str):
    """The wall of one hall: every figure the duty manager watches, live."""
    hall, role = admit_to_hall(who=request.user, code=hall, action=OPEN_WALL, say_code=False)
    handles_incidents = offers_incident_handling(role=role)
    language = "en" if translation.get_language() == "en" else "zh"
    config = {
        "stream": "hall",
        "ws": f"/ws/halls/{hall.code}/wall/",
        # live.js polls this while the socket is down: for the wall, the metrics.
        "snapshot": reverse("metrics", args=[hall.code]),
        "hourly_url": reverse("metrics-hourly", args=[hall.code]),
        "hourly_refresh_s": HOURLY_REFRESH_S,
        "token": "",
        "hall": hall.code,
        "timezone": hall.timezone,
        "language": language,
        "heartbeat_s": settings.DISPLAY_HEARTBEAT_SECONDS,
        "service_level_target": hall.service_level_target,
        "satisfaction_target": SATISFACTION_TARGET,
        "pause_alert_s": hall.pause_alert_minutes * 60,
        "labels": _labels(),
        # Acknowledge and Resolve on the wall: the console's rule and the console's code
        # (static/counters/incident_actions.js); the API admits or refuses.
        "incidents": {"buttons": handles_incidents, **incident_actions_config()},
        "counter_links": counter_links(hall=hall),
        "metrics": hall_metrics(hall=hall),
        "hourly": hall_hourly(hall=hall),
    }
    context = {
        "hall": hall,
        "config": config,
        "screen": SCREEN,
        "incident_manager": handles_incidents,
    }
    return render(request, "display/wall.html", context)
