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
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from display.wall.metrics import SATISFACTION_TARGET, hall_metrics
from display.wall.trends import hall_hourly
from hall.models import Role
from hall.pages import Refused, refused_page, staff_hall

SCREEN = gettext_lazy("Hall wall")
ROLES = (Role.MANAGER, Role.CLERK)
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
    }


@login_required
def wall_page(request, hall: str):
    """The wall of one hall: every figure the duty manager watches, live."""
    try:
        hall, _role = staff_hall(
            user=request.user,
            code=hall,
            roles=ROLES,
            refusal=gettext_lazy("The wall is for this hall's managers and clerks."),
        )
    except Refused as refusal:
        return refused_page(request, screen=SCREEN, message=refusal.message, status=refusal.status)
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
        "metrics": hall_metrics(hall=hall),
        "hourly": hall_hourly(hall=hall),
    }
    context = {"hall": hall, "config": config, "screen": SCREEN}
    return render(request, "display/wall.html", context)
