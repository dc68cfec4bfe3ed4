"""Report pages for managers.

``/reports/<hall>/``: the daily report page: pick a date, read the tables, download.

The tables are those of the downloads (``reports/files.py``); the download links are the
API's (``reports/api/daily.py``), which the page's session authenticates. Managers of the hall
only (a superuser counts as a manager everywhere); anyone else gets the refusal page.

``/console/<hall>/interruptions/?date=YYYY-MM-DD``: the day's pauses by clerk and reason.
"""

import datetime

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from hall.access import READ_REPORTS, admit_to_hall, halls_admitting
from hall.views import refusal_page
from reports.daily import halls_daily_reports
from reports.files import report_tables
from reports.interruptions import interruptions_report

INTERRUPTIONS_SCREEN = gettext_lazy("Service interruptions")
INTERRUPTIONS_REFUSAL = gettext_lazy("The interruptions report is for the hall's managers.")


def _minutes_text(seconds) -> str:
    return "–" if seconds is None else _("%(m)s min") % {"m": f"{seconds / 60:.1f}"}


def _percent_text(share) -> str:
    return "–" if share is None else f"{share * 100:.1f}%"


@login_required
@refusal_page(screen=gettext_lazy("Daily report"))
def daily_report_page(request, hall: str):
    hall_obj, _role = admit_to_hall(
        who=request.user,
        code=hall,
        action=READ_REPORTS,
        refusal=gettext_lazy("Daily reports are for this hall's managers."),
        say_code=False,
    )
    today = hall_obj.service_date()
    raw = request.GET.get("date", "")
    date, bad_date = today, False
    if raw:
        try:
            date = datetime.date.fromisoformat(raw)
        except ValueError:
            bad_date = True
    (report,) = halls_daily_reports(halls=[hall_obj], date=date)
    tables = report_tables([report])
    for table in tables:  # the page shows the hall and date once, above the tables
        table.headers = table.headers[2:]
        table.rows = [row[2:] for row in table.rows]
    api = reverse("hall-daily-report", args=[hall_obj.code])
    downloads = [
        (label, f"{api}?{urlencode({'date': date.isoformat(), 'format': fmt})}")
        for label, fmt in ((_("Excel"), "xlsx"), (_("CSV"), "csv"), (_("JSON"), "json"))
    ]
    managed = (
        request.user.is_superuser
        or halls_admitting(user=request.user, action=READ_REPORTS).count() > 1
    )
    all_halls = None
    if managed:
        query = urlencode({"date": date.isoformat(), "format": "xlsx"})
        all_halls = f"{reverse('daily-reports')}?{query}"
    summary = report["summary"]
    cards = [
        (_("Arrivals"), summary["arrivals"], None),
        (_("Served"), summary["served"], None),
        (_("No-shows"), summary["no_shows"], None),
        (_("Mean wait"), _minutes_text(summary["mean_wait_s"]), None),
        (_("Service level"), _percent_text(summary["service_level"]), None),
        (
            _("Satisfaction"),
            "–" if summary["satisfaction"] is None else f"{summary['satisfaction']:g}",
            None
            if summary["satisfaction"] is None
            else summary["satisfaction"] >= report["satisfaction"]["target"],
        ),
        (_("Interruptions"), summary["interruptions"], None),
        (_("Incidents"), summary["incidents"], None),
    ]
    context = {
        "hall": hall_obj,
        "cards": cards,
        "date": date,
        "today": today,
        "bad_date": bad_date,
        "previous": date - datetime.timedelta(days=1),
        "next": date + datetime.timedelta(days=1) if date < today else None,
        "report": report,
        "tables": tables,
        "downloads": downloads,
        "all_halls": all_halls,
    }
    return render(request, "display/report.html", context)


def duration_text(seconds: int) -> str:
    """ "1 h 5 min", "12 min 30 s", "40 s"."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return gettext("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    if minutes:
        return gettext("%(minutes)s min %(seconds)s s") % {"minutes": minutes, "seconds": secs}
    return gettext("%(seconds)s s") % {"seconds": secs}


@login_required
@refusal_page(screen=INTERRUPTIONS_SCREEN)
def interruptions_page(request, hall: str):

    hall_obj, _role = admit_to_hall(
        who=request.user,
        code=hall,
        action=READ_REPORTS,
        refusal=INTERRUPTIONS_REFUSAL,
        say_code=False,
    )
    raw = request.GET.get("date", "")
    status, error = 200, None
    try:
        date = datetime.date.fromisoformat(raw) if raw else hall_obj.service_date()
    except ValueError:
        date, status, error = hall_obj.service_date(), 400, gettext("Give the date as YYYY-MM-DD.")
    report = interruptions_report(hall=hall_obj, date=date)
    for row in (*report.interruptions, *report.by_clerk, *report.by_reason, report.total):
        row.duration_text = duration_text(row.duration_s)
    context = {"hall": hall_obj, "report": report, "date": date, "error": error}
    return render(request, "hall/interruptions.html", context, status=status)
