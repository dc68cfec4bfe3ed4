"""The incidents API: report, list, acknowledge (staff, or the department's signed link without
a login), resolve; bad input gets a clear 4xx and changes nothing."""

# ruff: noqa: F811 (the fixtures imported from incident_fixtures are redefined as arguments)

import json
import random
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from hall.models import ApologyRecord, AuditEvent, EventKind, IdempotentRequest, Incident
from recovery.escalation_delivery import acknowledge_token
from tests.recovery.incident_fixtures import billing_team, webhook  # noqa: F401

pytestmark = pytest.mark.django_db

INCIDENTS = "/api/v1/halls/h1/incidents/"


def ack_url(incident_id, token=None):
    url = f"/api/v1/incidents/{incident_id}/acknowledge/"
    return url if token is None else f"{url}?token={token}"


def resolve_url(incident_id):
    return f"/api/v1/incidents/{incident_id}/resolve/"


def report(api, user, body=None, **headers):
    body = body if body is not None else {"kind": "billing", "business_types": ["payment"]}
    return api.as_user(user).post(INCIDENTS, body, format="json", **headers)


def state():
    """What a refused request must leave untouched."""
    return (
        Incident.objects.count(),
        AuditEvent.objects.count(),
        ApologyRecord.objects.count(),
        list(Incident.objects.values_list("acknowledged_at", "resolved_at")),
    )


def test_a_clerk_reports_a_fault_and_gets_the_incident_back(
    api, hall, clerk_a, billing_team, webhook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = report(
            api,
            clerk_a,
            {
                "kind": "billing",
                "business_types": ["payment", "topup"],
                "severity": "critical",
                "mode": "unavailable",
                "description": "计费系统无响应",
            },
        )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "billing" and body["kind_label"]
    assert body["business_types"] == ["payment", "topup"]
    assert body["severity"] == "critical" and body["mode"] == "unavailable"
    assert body["department"] == "计费支撑中心" and body["reporter"] == "clerk_a"
    assert body["description"] == "计费系统无响应"
    assert body["apology_zh"].startswith("非常抱歉")
    assert body["resolved_at"] is None and body["duration_s"] is None
    assert body["affected_customers"] is None and body["acknowledged_by"] == ""
    # The first round went out after commit.
    assert body["escalation"]["level"] == "department"
    assert len(webhook.requests) == 1 and len(mail.outbox) == 2
    assert Incident.objects.get().escalation_round == 1


def test_omitting_business_types_means_every_business(api, hall, manager):
    response = report(api, manager, {"kind": "network"})

    assert response.status_code == 201
    assert response.json()["business_types"] is None
    assert response.json()["severity"] == "high" and response.json()["mode"] == "warn"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "billing", "business_types": ["payment", "nosuch"]}, "business_types"),
        ({"kind": "earthquake"}, "kind"),
        ({"kind": "billing", "mode": "closed"}, "mode"),
        ({"kind": "billing", "severity": "apocalyptic"}, "severity"),
        ({"kind": "billing", "business_types": "payment"}, "business_types"),
        ({"business_types": ["payment"]}, "kind"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(api, hall, clerk_a, body, field):
    before = state()

    response = report(api, clerk_a, body)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert state() == before


def test_an_unknown_code_is_named_in_the_error(api, hall, clerk_a):
    response = report(api, clerk_a, {"kind": "billing", "business_types": ["nosuch", "payment"]})
    assert "nosuch" in response.json()["error"]["fields"]["business_types"]


def test_a_business_type_of_another_hall_is_unknown_here(api, hall, other_hall, clerk_a):
    # other_hall has "payment" too; "h2only" exists nowhere in h1.
    response = report(api, clerk_a, {"kind": "billing", "business_types": ["h2only"]})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("who", "status"),
    [("greeter", 403), ("outsider", 403), ("display_device", 403), ("anonymous", 401)],
)
def test_only_the_halls_clerks_and_managers_may_report(api, hall, who, status, request):
    before = state()
    if who == "display_device":
        api.as_device(request.getfixturevalue(who))
    elif who != "anonymous":
        api.as_user(request.getfixturevalue(who))

    response = api.post(INCIDENTS, {"kind": "billing"}, format="json")

    assert response.status_code == status, response.content
    assert set(response.json()) == {"error"}
    assert state() == before


def test_a_repeated_report_with_the_same_idempotency_key_opens_one_incident(api, hall, clerk_a):
    first = report(api, clerk_a, HTTP_IDEMPOTENCY_KEY="fault-1")
    again = report(api, clerk_a, HTTP_IDEMPOTENCY_KEY="fault-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Incident.objects.count() == 1
    assert IdempotentRequest.objects.count() == 1


def test_the_list_shows_the_halls_incidents_and_open_1_only_the_unresolved(
    api, hall, clerk_a, greeter, outsider
):
    old = report(api, clerk_a, {"kind": "printer"}).json()
    api.post(resolve_url(old["id"]), {}, format="json")
    current = report(api, clerk_a, {"kind": "network"}).json()

    everything = api.as_user(greeter).get(INCIDENTS)
    open_only = api.get(INCIDENTS + "?open=1")

    assert [i["id"] for i in everything.json()] == [current["id"], old["id"]]
    assert [i["id"] for i in open_only.json()] == [current["id"]]
    assert api.as_user(outsider).get(INCIDENTS).status_code == 403
    assert APIClient().get(INCIDENTS).status_code == 401


def test_the_department_acknowledges_through_the_signed_link_without_a_login(
    api, hall, clerk_a, billing_team, webhook, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = report(api, clerk_a).json()
    link = urlparse(webhook.bodies[0]["acknowledge_url"])
    token = parse_qs(link.query)["token"][0]
    anonymous = APIClient()

    response = anonymous.post(f"{link.path}?token={token}", {"by": "计费值班 王工"}, format="json")
    again = anonymous.post(f"{link.path}?token={token}", {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["acknowledged_by"] == "计费值班 王工"
    assert response.json()["acknowledged_at"] is not None
    assert again.status_code == 200 and again.json() == response.json()
    assert AuditEvent.objects.filter(kind=EventKind.INCIDENT_ACKNOWLEDGED).count() == 1
    assert Incident.objects.get(pk=incident["id"]).next_notify_at is None


def test_without_a_name_the_link_acknowledges_in_the_departments_name(
    api, hall, clerk_a, billing_team
):
    incident = report(api, clerk_a).json()
    token = acknowledge_token(incident["id"])

    response = APIClient().post(ack_url(incident["id"], token), format="json")

    assert response.json()["acknowledged_by"] == "计费支撑中心"


def test_a_forged_or_borrowed_token_is_refused(api, hall, clerk_a):
    first = report(api, clerk_a).json()
    second = report(api, clerk_a, {"kind": "printer"}).json()
    before = state()
    anonymous = APIClient()

    forged = anonymous.post(ack_url(first["id"], "1:forged:token"), format="json")
    borrowed = anonymous.post(ack_url(second["id"], acknowledge_token(first["id"])), format="json")
    no_login = anonymous.post(ack_url(first["id"]), format="json")

    assert forged.status_code == borrowed.status_code == 403
    assert no_login.status_code == 401
    assert state() == before


def test_staff_acknowledge_in_their_own_name_and_outsiders_may_not(
    api, hall, clerk_a, manager, outsider, greeter
):
    incident = report(api, clerk_a).json()
    before = state()

    assert api.as_user(outsider).post(ack_url(incident["id"]), format="json").status_code == 403
    assert api.as_user(greeter).post(ack_url(incident["id"]), format="json").status_code == 403
    assert state() == before
    response = api.as_user(manager).post(ack_url(incident["id"]), format="json")

    assert response.status_code == 200
    assert response.json()["acknowledged_by"] == "manager"


def test_resolving_answers_with_duration_and_affected_and_a_second_resolve_is_409(
    api, hall, clerk_a, manager, kiosk
):
    incident = report(api, clerk_a).json()
    issued = api.as_device(kiosk).post(
        "/api/v1/halls/h1/tickets/", {"business_type": "payment"}, format="json"
    )
    assert issued.status_code == 201

    response = api.as_user(manager).post(
        resolve_url(incident["id"]), {"resolution": "计费恢复"}, format="json"
    )
    before = state()
    again = api.post(resolve_url(incident["id"]), {"resolution": "x"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["resolved_at"] is not None and body["resolution"] == "计费恢复"
    assert body["resolved_by"] == "manager"
    assert body["affected_customers"] == 1 and body["duration_s"] >= 0
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "incident_resolved"
    assert state() == before


@pytest.mark.parametrize("who", ["greeter", "outsider"])
def test_only_the_halls_clerks_and_managers_may_resolve(api, hall, clerk_a, who, request):
    incident = report(api, clerk_a).json()
    before = state()

    response = api.as_user(request.getfixturevalue(who)).post(
        resolve_url(incident["id"]), format="json"
    )

    assert response.status_code == 403
    assert state() == before


def test_an_unknown_incident_is_a_404(api, hall, manager):
    api.as_user(manager)
    assert api.post(resolve_url(999999), format="json").status_code == 404
    assert api.post(ack_url(999999), format="json").status_code == 404
    assert api.post(resolve_url(99999999999999999999999), format="json").status_code == 404


def test_the_e_mail_link_opens_a_page_with_a_button_that_acknowledges(
    client, api, hall, clerk_a, billing_team
):
    incident = report(api, clerk_a).json()
    url = f"/incidents/{incident['id']}/acknowledge/?token={acknowledge_token(incident['id'])}"

    page = client.get(url)
    assert page.status_code == 200
    assert incident["apology_zh"] in page.content.decode()
    assert Incident.objects.get().acknowledged_at is None  # looking acknowledges nothing

    done = client.post(url, {"by": "王工"})
    assert done.status_code == 200
    assert 'data-state="acknowledged"' in done.content.decode()
    assert Incident.objects.get().acknowledged_by == "王工"

    forged = client.get(f"/incidents/{incident['id']}/acknowledge/?token=nope")
    assert forged.status_code == 403


ENDPOINTS = {
    "report": (lambda i: INCIDENTS, ("kind", "business_types", "severity", "mode", "description")),
    "acknowledge": (lambda i: ack_url(i), ("by",)),
    "resolve": (lambda i: resolve_url(i), ("resolution",)),
}


def random_value(rng):
    return rng.choice(
        [
            None,
            True,
            2**70,
            -1,
            1.5,
            "",
            "x" * 3000,
            "payment",
            "billing",
            "\x00",
            "中文",
            [],
            ["payment", 3, None],
            ["nosuch"],
            {"a": 1},
        ]
    )


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_random_json_never_causes_a_server_error(api, hall, manager, endpoint):
    url_for, keys = ENDPOINTS[endpoint]
    incident = report(api, manager).json()
    rng = random.Random(f"incidents-{endpoint}")
    for _ in range(40):
        roll = rng.random()
        if roll < 0.2:
            body = json.dumps(random_value(rng))
        elif roll < 0.9:
            body = json.dumps({k: random_value(rng) for k in keys if rng.random() < 0.7})
        else:
            body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 20)))
        response = api.as_user(manager).post(
            url_for(incident["id"]), data=body, content_type="application/json"
        )
        assert response.status_code < 500, (endpoint, body, response.content)
        if response.status_code >= 400:
            assert set(response.json()) == {"error"}


def test_the_schema_documents_the_incident_endpoints(client, db):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/halls/{hall}/incidents/"])
    report_op = paths["/api/v1/halls/{hall}/incidents/"]["post"]
    assert "201" in report_op["responses"]
    assert "Idempotency-Key" in {p["name"] for p in report_op["parameters"] if p["in"] == "header"}
    ack = paths["/api/v1/incidents/{incident_id}/acknowledge/"]["post"]
    assert "token" in {p["name"] for p in ack["parameters"] if p["in"] == "query"}
    assert "409" in paths["/api/v1/incidents/{incident_id}/resolve/"]["post"]["responses"]


def test_the_list_reads_a_fixed_number_of_queries_however_many_incidents(
    api, hall, clerk_a, django_assert_num_queries
):
    report(api, clerk_a, {"kind": "printer", "business_types": ["payment"]})
    api.get(INCIDENTS)  # warm: the session, the membership
    with CaptureQueriesContext(connection) as one:
        assert len(api.get(INCIDENTS).json()) == 1
    queries_for_one = len(one.captured_queries)  # now: each request resets the query log
    for kind in ("network", "power", "other", "billing"):
        report(api, clerk_a, {"kind": kind, "business_types": ["topup", "service"]})
    with django_assert_num_queries(queries_for_one):
        assert len(api.get(INCIDENTS).json()) == 5
