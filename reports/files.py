"""The daily report as tables, and those tables as a CSV file or an Excel workbook.

Both files hold the same tables, each starting with the hall's code and the date, so one file
can hold many halls: summary, by hour, by business type, by hour and business type,
interruptions, incidents, satisfaction (with the reasons given), phone notices and clerks. The
workbook has one sheet per table (openpyxl). The CSV has the tables one after another, each as a
title row, a header row and its rows, with an empty row between tables; it is UTF-8 with a
byte-order mark so that Excel opens the Chinese correctly. Headings and names are in the
request's language; waits and durations are in minutes, service level and satisfaction in percent
(0-100).
"""

import csv
import datetime
import io
import zoneinfo
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from counters.models import Rating

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv"


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list]


def _minutes(seconds) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _percent(share) -> float | None:
    return None if share is None else round(share * 100, 1)


def _local(moment, tz) -> datetime.datetime | None:
    """Naive local time: spreadsheets have no timezones (the hall's is in the summary)."""
    if moment is None:
        return None
    return moment.astimezone(tz).replace(tzinfo=None, microsecond=0)


def _pick(labels: dict) -> str:
    return labels["en"] if translation.get_language() == "en" else labels["zh"]


def _type_name(row: dict) -> str:
    return row["name_en"] if translation.get_language() == "en" else row["name_zh"]


FLOW_HEADERS = [
    _("Arrivals"),
    _("Served"),
    _("No-shows"),
    _("Cancelled"),
    _("Expired"),
    _("Transfers"),
    _("Mean wait (min)"),
    _("90% waited at most (min)"),
    _("Service level (%)"),
]


def _flow(row: dict) -> list:
    return [
        row["arrivals"],
        row["served"],
        row["no_shows"],
        row["cancelled"],
        row["expired"],
        row["transfers"],
        _minutes(row["mean_wait_s"]),
        _minutes(row["p90_wait_s"]),
        _percent(row["service_level"]),
    ]


def report_tables(reports: list[dict]) -> list[Table]:
    """The tables of one or more halls' reports for one date (see the module's docstring)."""
    lead = [str(_("Hall")), str(_("Date"))]
    tables = {
        "summary": Table(
            "summary",
            str(_("Summary")),
            lead
            + [str(_("Hall name")), str(_("Target wait (min)"))]
            + [str(h) for h in FLOW_HEADERS]
            + [
                str(_("Interruptions")),
                str(_("Interruption minutes")),
                str(_("Incidents")),
                str(_("Incident minutes")),
                str(_("Customers affected")),
                str(_("Ratings")),
                str(_("Satisfaction (0-100)")),
            ],
            [],
        ),
        "by_hour": Table(
            "by_hour",
            str(_("By hour")),
            lead + [str(_("Hour"))] + [str(h) for h in FLOW_HEADERS],
            [],
        ),
        "by_business_type": Table(
            "by_business_type",
            str(_("By business type")),
            lead + [str(_("Business type")), str(_("Name"))] + [str(h) for h in FLOW_HEADERS],
            [],
        ),
        "by_hour_and_type": Table(
            "by_hour_and_type",
            str(_("By hour and business type")),
            lead
            + [str(_("Hour")), str(_("Business type")), str(_("Name"))]
            + [str(h) for h in FLOW_HEADERS],
            [],
        ),
        "interruptions": Table(
            "interruptions",
            str(_("Interruptions")),
            lead + [str(_("Reason")), str(_("Count")), str(_("Minutes"))],
            [],
        ),
        "incidents": Table(
            "incidents",
            str(_("Incidents")),
            lead
            + [
                str(_("Kind")),
                str(_("Severity")),
                str(_("Opened")),
                str(_("Resolved")),
                str(_("Minutes this day")),
                str(_("Customers affected")),
            ],
            [],
        ),
        "satisfaction": Table(
            "satisfaction",
            str(_("Satisfaction")),
            lead + [str(_("Rating or reason")), str(_("Count")), str(_("Score (0-100)"))],
            [],
        ),
        "phone_notices": Table(
            "phone_notices",
            str(_("Phone notices")),
            lead + [str(_("What became of them")), str(_("Count"))],
            [],
        ),
        "clerks": Table(
            "clerks",
            str(_("Clerks")),
            lead
            + [
                str(_("Clerk")),
                str(_("Served")),
                str(_("Mean service time (min)")),
                str(_("Pauses")),
                str(_("Pause minutes")),
                str(_("Ratings")),
                str(_("Satisfaction (0-100)")),
            ],
            [],
        ),
    }
    for report in reports:
        _fill(tables, report)
    return list(tables.values())


def _fill(tables: dict[str, Table], report: dict) -> None:
    tz = zoneinfo.ZoneInfo(report["hall"]["timezone"])
    lead = [report["hall"]["code"], report["date"]]
    summary = report["summary"]
    tables["summary"].rows.append(
        lead
        + [report["hall"]["name"], _minutes(report["target_wait_s"])]
        + _flow(summary)
        + [
            summary["interruptions"],
            summary["interruption_minutes"],
            summary["incidents"],
            summary["incident_minutes"],
            summary["customers_affected"],
            summary["ratings"],
            summary["satisfaction"],
        ]
    )
    for row in report["by_hour"]:
        tables["by_hour"].rows.append(lead + [f"{row['hour']:02d}:00"] + _flow(row))
    for row in report["by_business_type"]:
        tables["by_business_type"].rows.append(
            lead + [row["business_type"], _type_name(row)] + _flow(row)
        )
    for row in report["by_hour_and_type"]:
        tables["by_hour_and_type"].rows.append(
            lead + [f"{row['hour']:02d}:00", row["business_type"], _type_name(row)] + _flow(row)
        )
    for row in report["interruptions"]:
        tables["interruptions"].rows.append(
            lead + [_pick(row["label"]), row["count"], row["minutes"]]
        )
    for row in report["incidents"]:
        tables["incidents"].rows.append(
            lead
            + [
                _pick(row["label"]),
                _pick(row["severity_label"]),
                _local(row["opened_at"], tz),
                _local(row["resolved_at"], tz),
                row["minutes"],
                row["customers_affected"],
            ]
        )
    satisfaction = report["satisfaction"]
    rows = tables["satisfaction"].rows
    rows.append(lead + [str(_("All ratings")), satisfaction["ratings"], satisfaction["score"]])
    for choice in Rating:
        rows.append(lead + [str(choice.label), satisfaction[choice.value], None])
    for reason in satisfaction["reasons"]:
        rows.append(lead + [_pick(reason["label"]), reason["count"], None])
    for row in report["phone_notices"]:
        tables["phone_notices"].rows.append(lead + [_pick(row["label"]), row["count"]])
    for clerk in report["clerks"]:
        tables["clerks"].rows.append(
            lead
            + [
                clerk["name"],
                clerk["served"],
                _minutes(clerk["mean_service_s"]),
                clerk["pauses"],
                clerk["pause_minutes"],
                clerk["ratings"],
                clerk["score"],
            ]
        )


def _cell(value):
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else value


def report_csv(tables: list[Table]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.headers)
        writer.writerows([_cell(value) for value in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


_SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def report_xlsx(tables: list[Table]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for table in tables:
        sheet = workbook.create_sheet(table.title.translate(_SHEET_FORBIDDEN)[:31])
        sheet.append(table.headers)
        for cell in sheet[1]:
            cell.font = bold
        for row in table.rows:
            sheet.append(row)
        sheet.freeze_panes = "A2"
        for column, header in enumerate(table.headers, start=1):
            width = max([len(str(header))] + [len(str(_cell(r[column - 1]))) for r in table.rows])
            sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 8), 40)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, datetime.datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm:ss"
                elif isinstance(cell.value, datetime.date):
                    cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
