"""The daily report against a hand-built day in hall h1 (Asia/Shanghai, target wait 15 min):
tickets served, one served after midnight, one transferred, a no-show, a cancellation, two
pauses (one across midnight), two incidents (one from the day before) and three ratings. Then
the CSV and Excel downloads, the API for one and many halls, and the manager's page.

Hall h1 (conftest): counter 1 serves payment+topup, counter 4 serves service only.
"""

import csv
import datetime
import io

import openpyxl
import pytest
import time_machine
from django.utils import translation

from counters.satisfaction import rating_record
from counters.services import (
    counter_call_next,
    counter_finish,
    counter_no_show,
    counter_open,
    counter_pause,
    counter_resume,
    counter_start,
    counter_transfer,
)
from hall.models import Incident, IncidentKind
from hall.services import device_register
from queueing.services import ticket_cancel
from reports.daily import hall_daily_report, halls_daily_reports
from reports.files import report_csv, report_tables, report_xlsx
from tests.conftest import counter
from tests.factories import issue

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
DAY = datetime.date(2026, 3, 2)


def at(hhmm: str, day: datetime.date = DAY) -> datetime.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SHANGHAI)


NEXT = DAY + datetime.timedelta(days=1)
BEFORE = DAY - datetime.timedelta(days=1)


@pytest.fixture
def day(hall, greeter, clerk_a, clerk_b, manager):
    """The hand-built day (see the module docstring); returns the tickets by name."""
    pad, _token = device_register(hall=hall, kind="rating_pad", name="pad")
    c1, c4 = counter(hall, 1).pk, counter(hall, 4).pk
    tickets = {}

    def when(hhmm, fn, day=DAY, **kwargs):
        with time_machine.travel(at(hhmm, day), tick=False):
            return fn(**kwargs)

    when("09:00", counter_open, counter_id=c1, user=clerk_a)
    tickets["A001"] = when("09:10", lambda: issue(hall, by=greeter))
    when("09:20", counter_call_next, counter_id=c1, user=clerk_a)  # waited 10 min
    when("09:21", counter_start, counter_id=c1, user=clerk_a)
    when("09:30", counter_finish, counter_id=c1, user=clerk_a)  # 9 min of service
    when("09:31", rating_record, ticket_id=tickets["A001"].pk, rating="very_satisfied",
         reason="fast", device=pad)  # fmt: skip

    tickets["A002"] = when("09:40", lambda: issue(hall, by=greeter))
    tickets["A003"] = when("10:00", lambda: issue(hall, by=greeter))  # goes to service
    when("10:05", counter_call_next, counter_id=c1, user=clerk_a)  # A002 waited 25 min
    when("10:06", counter_start, counter_id=c1, user=clerk_a)
    when("10:12", counter_finish, counter_id=c1, user=clerk_a)  # 6 min
    when("10:13", rating_record, ticket_id=tickets["A002"].pk, rating="dissatisfied",
         reason="long_wait", device=pad)  # fmt: skip
    when("10:15", counter_call_next, counter_id=c1, user=clerk_a)  # A003, greeted
    when("10:16", counter_start, counter_id=c1, user=clerk_a)
    when("10:20", counter_transfer, counter_id=c1, user=clerk_a, business_type_code="service")
    when("10:39", counter_open, counter_id=c4, user=clerk_b)
    when("10:40", counter_call_next, counter_id=c4, user=clerk_b)  # waited 40 min since 10:00
    when("10:41", counter_start, counter_id=c4, user=clerk_b)
    when("10:55", counter_finish, counter_id=c4, user=clerk_b)  # 14 min

    tickets["B001"] = when("11:00", lambda: issue(hall, "topup", by=greeter))
    when("11:05", counter_call_next, counter_id=c1, user=clerk_a)
    when("11:08", counter_no_show, counter_id=c1, user=clerk_a)

    when("12:00", counter_pause, counter_id=c1, user=clerk_a, reason="phone_call")
    when("12:10", counter_resume, counter_id=c1, user=clerk_a)  # 10 min

    tickets["A004"] = when("15:00", lambda: issue(hall, by=greeter))
    when("15:05", ticket_cancel, ticket=tickets["A004"], actor=greeter)

    when("23:30", counter_pause, counter_id=c4, user=clerk_b, reason="break")
    tickets["A005"] = when("23:50", lambda: issue(hall, by=greeter))  # served after midnight
    when("00:05", counter_call_next, NEXT, counter_id=c1, user=clerk_a)  # waited 15 min
    when("00:06", counter_start, NEXT, counter_id=c1, user=clerk_a)
    tickets["next day"] = when("00:10", lambda: issue(hall, by=greeter), NEXT)
    when("00:20", counter_finish, NEXT, counter_id=c1, user=clerk_a)  # 14 min
    when("00:22", rating_record, NEXT, ticket_id=tickets["A005"].pk, rating="satisfied",
         device=pad)  # fmt: skip
    when("00:30", counter_resume, NEXT, counter_id=c4, user=clerk_b)  # 30 min of it on DAY

    for kind, opened, resolved, affected in (
        (IncidentKind.NETWORK, at("23:00", BEFORE), at("01:00"), 5),  # 60 min on DAY
        (IncidentKind.PRINTER, at("14:00"), at("14:45"), 3),
    ):
        Incident.objects.create(
            hall=hall,
            kind=kind,
            reporter=manager,
            opened_at=opened,
            resolved_at=resolved,
            affected_customers=affected,
            apology_zh="抱歉",
            apology_en="Sorry",
        )
    return tickets


def test_the_summary_of_the_day(hall, day):
    summary = hall_daily_report(hall=hall, date=DAY)["summary"]
    assert summary == {
        "arrivals": 6,  # A001-A005 and B001; not the ticket issued after midnight
        "served": 4,  # A001, A002, A003 (after its transfer), A005 (after midnight)
        "no_shows": 1,
        "cancelled": 1,
        "expired": 0,
        "transfers": 1,
        "mean_wait_s": 1350,  # (10 + 25 + 40 + 15) min / 4
        "p90_wait_s": 2400,  # nearest rank of four waits: the longest
        "service_level": 0.5,  # 10 and 15 min are within 15
        "interruptions": 2,
        "interruption_minutes": 40.0,  # 10 + the 30 minutes of the break before midnight
        "incidents": 2,
        "incident_minutes": 105.0,  # 60 (from midnight) + 45
        "customers_affected": 8,
        "ratings": 3,
        "satisfaction": 60.0,  # (100 + 0 + 80) / 3
    }


def test_by_hour_of_arrival(hall, day):
    hours = {row["hour"]: row for row in hall_daily_report(hall=hall, date=DAY)["by_hour"]}
    assert sorted(hours) == [9, 10, 11, 15, 23]
    assert (hours[9]["arrivals"], hours[9]["served"], hours[9]["mean_wait_s"]) == (2, 2, 1050)
    assert (hours[9]["p90_wait_s"], hours[9]["service_level"]) == (1500, 0.5)
    assert (hours[10]["transfers"], hours[10]["mean_wait_s"], hours[10]["service_level"]) == (
        1,
        2400,
        0.0,
    )
    assert (hours[11]["no_shows"], hours[11]["mean_wait_s"], hours[11]["service_level"]) == (
        1,
        None,
        None,
    )
    assert (hours[15]["cancelled"], hours[15]["served"]) == (1, 0)
    # Issued at 23:50, served at 00:20: in this day's 23:00 hour, within the target exactly.
    assert (hours[23]["served"], hours[23]["mean_wait_s"], hours[23]["service_level"]) == (
        1,
        900,
        1.0,
    )


def test_by_business_type_and_by_hour_and_type(hall, day):
    report = hall_daily_report(hall=hall, date=DAY)
    types = {row["business_type"]: row for row in report["by_business_type"]}
    assert list(types) == ["payment", "service", "topup"]  # the hall's order (then by code)
    payment = types["payment"]
    assert (payment["arrivals"], payment["served"], payment["cancelled"]) == (4, 3, 1)
    assert (payment["mean_wait_s"], payment["p90_wait_s"]) == (1000, 1500)
    assert payment["service_level"] == 0.6667
    # The transferred ticket counts once, under the business it was served for.
    service = types["service"]
    assert (service["arrivals"], service["served"], service["transfers"]) == (1, 1, 1)
    assert (service["name_zh"], service["name_en"]) == ("业务受理", "Service application")
    assert (types["topup"]["arrivals"], types["topup"]["no_shows"]) == (1, 1)
    cells = {(r["hour"], r["business_type"]): r["arrivals"] for r in report["by_hour_and_type"]}
    assert cells == {
        (9, "payment"): 2,
        (10, "service"): 1,
        (11, "topup"): 1,
        (15, "payment"): 1,
        (23, "payment"): 1,
    }


def test_interruptions_incidents_and_satisfaction(hall, day):
    report = hall_daily_report(hall=hall, date=DAY)
    assert [(r["reason"], r["count"], r["minutes"]) for r in report["interruptions"]] == [
        ("phone_call", 1, 10.0),
        ("break", 1, 30.0),
    ]
    assert [(r["kind"], r["minutes"], r["customers_affected"]) for r in report["incidents"]] == [
        ("network", 60.0, 5),
        ("printer", 45.0, 3),
    ]
    satisfaction = report["satisfaction"]
    assert {k: satisfaction[k] for k in ("ratings", "score", "target")} == {
        "ratings": 3,
        "score": 60.0,
        "target": 85,
    }
    counts = [satisfaction[k] for k in ("very_satisfied", "satisfied", "dissatisfied")]
    assert counts == [1, 1, 1]
    assert sorted((r["reason"], r["count"]) for r in satisfaction["reasons"]) == [
        ("fast", 1),
        ("long_wait", 1),
    ]


def test_per_clerk(hall, day, clerk_a, clerk_b):
    clerks = {c["id"]: c for c in hall_daily_report(hall=hall, date=DAY)["clerks"]}
    assert clerks[clerk_a.pk] == {
        "id": clerk_a.pk,
        "name": "clerk_a",
        "served": 3,
        "mean_service_s": 580,  # (9 + 6 + 14) min / 3
        "pauses": 1,
        "pause_minutes": 10.0,
        "ratings": 3,
        "score": 60.0,
    }
    b = clerks[clerk_b.pk]
    assert (b["served"], b["mean_service_s"], b["pauses"], b["pause_minutes"]) == (1, 840, 1, 30.0)
    assert (b["ratings"], b["score"]) == (0, None)


def test_the_next_day_holds_what_falls_in_it(hall, day):
    report = hall_daily_report(hall=hall, date=NEXT, now=at("12:00", NEXT))
    assert report["summary"]["arrivals"] == 1  # issued 00:10, still waiting
    assert report["summary"]["served"] == 0
    assert report["summary"]["ratings"] == 0  # A005's rating belongs to its own day
    assert [(r["reason"], r["minutes"]) for r in report["interruptions"]] == [("break", 30.0)]
    assert report["incidents"] == []


def test_an_open_interruption_counts_up_to_now(hall, clerk_a):
    c1 = counter(hall, 1).pk
    with time_machine.travel(at("09:00"), tick=False):
        counter_open(counter_id=c1, user=clerk_a)
    with time_machine.travel(at("16:00"), tick=False):
        counter_pause(counter_id=c1, user=clerk_a, reason="break")
    report = hall_daily_report(hall=hall, date=DAY, now=at("16:25"))
    assert report["interruptions"][0]["minutes"] == 25.0


def test_many_halls_take_the_same_seven_queries(hall, other_hall, day, django_assert_num_queries):
    with django_assert_num_queries(7):
        reports = halls_daily_reports(halls=[hall, other_hall], date=DAY)
    assert [r["hall"]["code"] for r in reports] == ["h1", "h2"]
    assert reports[1]["summary"]["arrivals"] == 0
    assert reports[0]["summary"] == hall_daily_report(hall=hall, date=DAY)["summary"]


# --- the files --------------------------------------------------------------------------------

SHEETS = [
    "Summary",
    "By hour",
    "By business type",
    "By hour and business type",
    "Interruptions",
    "Incidents",
    "Satisfaction",
    "Phone notices",
    "Clerks",
]


def csv_tables(content: bytes) -> dict[str, list[dict]]:
    """The CSV's tables by title: each a title row, a header row, rows; blank rows between."""
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    tables, index = {}, 0
    while index < len(rows):
        title, headers = rows[index][0], rows[index + 1]
        index += 2
        body = []
        while index < len(rows) and rows[index]:
            body.append(dict(zip(headers, rows[index], strict=True)))
            index += 1
        tables[title] = body
        index += 1
    return tables


def test_the_csv_parses_into_the_tables(hall, day):
    with translation.override("en"):
        content = report_csv(report_tables([hall_daily_report(hall=hall, date=DAY)]))
    assert content.startswith(b"\xef\xbb\xbf")  # so that Excel reads the UTF-8 Chinese
    tables = csv_tables(content)
    assert list(tables) == SHEETS
    (summary,) = tables["Summary"]
    assert (summary["Hall"], summary["Date"], summary["Hall name"]) == (
        "h1",
        "2026-03-02",
        "测试营业厅",
    )
    assert (summary["Arrivals"], summary["Served"], summary["Mean wait (min)"]) == (
        "6",
        "4",
        "22.5",
    )
    assert summary["Service level (%)"] == "50.0"
    assert [r["Hour"] for r in tables["By hour"]] == ["09:00", "10:00", "11:00", "15:00", "23:00"]
    incidents = tables["Incidents"]
    assert [(r["Opened"], r["Minutes this day"]) for r in incidents] == [
        ("2026-03-01 23:00:00", "60.0"),
        ("2026-03-02 14:00:00", "45.0"),
    ]
    assert {r["Clerk"] for r in tables["Clerks"]} == {"clerk_a", "clerk_b"}


def test_the_excel_file_opens_with_a_sheet_per_table(hall, other_hall, day):
    reports = halls_daily_reports(halls=[hall, other_hall], date=DAY)
    with translation.override("en"):
        content = report_xlsx(report_tables(reports))
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == SHEETS
    summary = list(workbook["Summary"].iter_rows(values_only=True))
    assert summary[0][:5] == ("Hall", "Date", "Hall name", "Target wait (min)", "Arrivals")
    assert [row[0] for row in summary[1:]] == ["h1", "h2"]
    assert summary[1][4:6] == (6, 4)
    opened, resolved = list(workbook["Incidents"].iter_rows(values_only=True))[1][4:6]
    assert opened == datetime.datetime(2026, 3, 1, 23, 0)  # the hall's local time
    assert resolved == datetime.datetime(2026, 3, 2, 1, 0)


def test_the_files_speak_the_request_language(hall, day):
    with translation.override("zh-hans"):
        tables = report_tables([hall_daily_report(hall=hall, date=DAY)])
    with translation.override("en"):
        english = report_tables([hall_daily_report(hall=hall, date=DAY)])
    names = {row[3] for row in tables[2].rows}
    assert "业务受理" in names  # the business type's Chinese name
    assert "Service application" in {row[3] for row in english[2].rows}
    # The incidents' kind and severity too (the severity was its code in both languages).
    incidents = {t.key: t for t in tables}["incidents"]
    assert [row[2:4] for row in incidents.rows] == [["网络", "高"], ["打印机", "高"]]
    assert [row[2:4] for row in {t.key: t for t in english}["incidents"].rows] == [
        ["network", "high"],
        ["printer", "high"],
    ]


def test_the_phone_notices_say_what_became_of_them(
    hall, kiosk, clerk_a, settings, django_capture_on_commit_callbacks
):
    """Without a gateway the texts were logged, not sent, and the report says so."""
    settings.PHONE_NOTICE_WEBHOOK_URL = ""
    c1 = counter(hall, 1).pk
    with time_machine.travel(at("09:00"), tick=False):
        counter_open(counter_id=c1, user=clerk_a)
        issue(hall, device=kiosk, phone="13800138000")
        issue(hall, device=kiosk, phone="13900139000")
        issue(hall, device=kiosk)  # no phone, no notice
        with django_capture_on_commit_callbacks(execute=True):  # the notices' tasks
            counter_call_next(counter_id=c1, user=clerk_a)  # "your turn" and "get ready"
    report = hall_daily_report(hall=hall, date=DAY)
    assert [(r["status"], r["count"]) for r in report["phone_notices"]] == [("logged", 2)]
    assert report["phone_notices"][0]["label"] == {"zh": "已记录,未发送", "en": "logged, not sent"}
    with translation.override("en"):
        tables = {t.key: t for t in report_tables([report])}
    assert tables["phone_notices"].rows == [["h1", DAY, "logged, not sent", 2]]


# --- the API ----------------------------------------------------------------------------------


def report_url(**params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/api/v1/halls/h1/reports/daily/?{query}"


def test_a_manager_gets_the_report_as_json_csv_and_excel(hall, day, manager, api):
    api.as_user(manager)
    response = api.get(report_url(date="2026-03-02"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["hall"]["code"], body["date"]) == ("h1", "2026-03-02")
    assert body["summary"]["arrivals"] == 6
    assert [r["kind"] for r in body["incidents"]] == ["network", "printer"]
    csv_response = api.get(report_url(date="2026-03-02", format="csv"))
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    assert 'filename="report-h1-2026-03-02.csv"' in csv_response["Content-Disposition"]
    assert csv_tables(csv_response.content)  # parses
    xlsx = api.get(report_url(date="2026-03-02", format="xlsx"))
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert len(openpyxl.load_workbook(io.BytesIO(xlsx.content)).sheetnames) == 9
    assert 'filename="report-h1-2026-03-02.xlsx"' in xlsx["Content-Disposition"]
    # JSON asked for by name (the page's download link) is a file of the same name; the plain
    # API answer is no download.
    named = api.get(report_url(date="2026-03-02", format="json"))
    assert named["Content-Disposition"] == 'attachment; filename="report-h1-2026-03-02.json"'
    assert {**named.json(), "generated_at": None} == {**body, "generated_at": None}
    assert "Content-Disposition" not in response


@pytest.mark.parametrize(
    "query", ["date=2026-02-30", "date=yesterday", "", "date=2026-3-2", "date=2026-03-02T00:00"]
)
def test_a_bad_date_is_a_400_in_the_error_shape(hall, manager, api, query):
    response = api.as_user(manager).get(f"/api/v1/halls/h1/reports/daily/?{query}&format=csv")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["fields"])) == ("invalid", ["date"])


def test_an_unknown_format_is_a_400(hall, manager, api):
    response = api.as_user(manager).get(report_url(date="2026-03-02", format="pdf"))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["format"]


def test_only_the_halls_managers_get_its_report(
    hall, manager, clerk_a, greeter, outsider, display_device, api
):
    url = report_url(date="2026-03-02")
    for person in (clerk_a, greeter, outsider):
        response = api.as_user(person).get(url)
        assert response.status_code == 403, person
        assert response.json()["error"]["code"] == "forbidden"
    assert api.as_device(display_device).get(url).status_code == 403
    api.credentials()
    api.force_authenticate(user=None)
    assert api.get(url).status_code == 401
    missing = api.as_user(manager).get("/api/v1/halls/nowhere/reports/daily/?date=2026-03-02")
    assert missing.status_code == 404


def test_many_halls_at_once_for_the_halls_one_manages(
    hall, other_hall, day, manager, django_user_model, api
):
    url = "/api/v1/reports/daily/?date=2026-03-02"
    mine = api.as_user(manager).get(url)
    assert [r["hall"]["code"] for r in mine.json()["halls"]] == ["h1"]
    assert api.get(url + "&halls=h1").json()["halls"][0]["summary"]["arrivals"] == 6
    refused = api.get(url + "&halls=h1,h2")
    assert refused.status_code == 403 and "h2" in refused.json()["error"]["message"]
    assert api.get(url + "&halls=h1,nowhere").status_code == 404
    boss = django_user_model.objects.create_superuser("boss", password="pw")
    both = api.as_user(boss).get(url + "&halls=h2,h1&format=xlsx")
    assert both.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(both.content)).worksheets[0]  # the summary
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["h2", "h1"]
    assert api.get(url).json()["date"] == "2026-03-02"
    assert len(api.get(url).json()["halls"]) == 2  # a superuser: every hall


def test_too_many_halls_in_one_request_is_a_400(hall, other_hall, manager, api, monkeypatch):
    monkeypatch.setattr("reports.api.daily.MAX_HALLS", 1)
    manager.is_superuser = True
    manager.save()
    response = api.as_user(manager).get("/api/v1/reports/daily/?date=2026-03-02")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["halls"]


def test_the_schema_documents_the_report_endpoints(api, manager):
    schema = api.as_user(manager).get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/halls/{hall}/reports/daily/", "/api/v1/reports/daily/"):
        operation = paths[path]["get"]
        assert {p["name"] for p in operation["parameters"]} >= {"date", "format"}
        assert set(operation["responses"]["200"]["content"]) == {
            "application/json",
            "text/csv",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }


# --- the manager's page -----------------------------------------------------------------------


def test_the_report_page_shows_the_day_and_links_the_downloads(hall, day, manager, client):
    client.force_login(manager)
    with translation.override("en"):
        response = client.get("/reports/h1/?date=2026-03-02", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="2026-03-02"' in page
    assert "/api/v1/halls/h1/reports/daily/?date=2026-03-02&amp;format=xlsx" in page
    assert "/api/v1/halls/h1/reports/daily/?date=2026-03-02&amp;format=csv" in page
    assert "Service application" in page or "业务受理" in page
    assert "60" in page  # the satisfaction score


def test_the_report_page_is_for_managers_and_survives_a_bad_date(hall, manager, clerk_a, client):
    client.force_login(clerk_a)
    assert client.get("/reports/h1/").status_code == 403
    client.force_login(manager)
    response = client.get("/reports/h1/?date=not-a-day")
    assert response.status_code == 200
    assert f'value="{hall.service_date().isoformat()}"' in response.content.decode()
    assert client.get("/reports/nowhere/").status_code == 404


def test_the_start_page_links_managers_to_the_reports(hall, manager, clerk_a, client):
    client.force_login(manager)
    assert 'href="/reports/h1/"' in client.get("/").content.decode()
    client.force_login(clerk_a)
    assert 'href="/reports/h1/"' not in client.get("/").content.decode()
