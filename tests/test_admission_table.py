"""Who is let in where: every operation of the OpenAPI schema and every page of the URLconf, for
each kind of caller, against a table of the answers they get.

An endpoint without a row fails the suite, so a new one cannot ship without saying who may use
it. The answers are the status codes of a request with no body (an admitted caller gets a 2xx,
a 400 for the missing input, a 404 for another hall's object or a 409): what the table holds is
which callers are refused (401 not signed in, 403 not allowed, 404 not shown) and which are not.
``HALLQ_ADMISSION_MEASURE=1 pytest tests/test_admission_table.py -s`` prints the answers measured
now, to review before changing the table.
"""

import os

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from counters.models import Counter
from hall.models import Role, StaffMembership
from hall.services import device_register
from recovery.complaints import complaint_register
from recovery.incidents import incident_open
from tests.factories import issue

PRINCIPALS = (
    "anonymous",
    "kiosk",
    "display",
    "rating_pad",
    "greeter",
    "clerk",
    "other_hall_clerk",
    "other_hall_manager",
    "manager",
)
MEASURE = os.environ.get("HALLQ_ADMISSION_MEASURE") == "1"


def _operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )


def _pages() -> list[str]:
    """Every route of the URLconf outside the API, the admin, i18n and static files."""
    found = []

    def walk(patterns, prefix=""):
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                found.append(route)

    walk(get_resolver().url_patterns)
    skipped = ("api/", "^api/", "admin/", "^admin/", "i18n/", "healthz/")
    return sorted(r for r in found if not r.startswith(skipped))


OPERATIONS = _operations()
PAGES = _pages()


@pytest.fixture
def world(db, hall, other_hall, greeter, clerk_a, manager, outsider, django_user_model):
    other_clerk = django_user_model.objects.create_user(username="other_clerk", password="pw")
    StaffMembership.objects.create(user=other_clerk, hall=other_hall, role=Role.CLERK)
    devices = {
        kind: device_register(hall=hall, kind=kind, name=kind)[1]
        for kind in ("kiosk", "display", "rating_pad")
    }
    ticket = issue(hall, by=greeter)
    incident = incident_open(hall=hall, kind="printer", reporter=manager)
    complaint = complaint_register(
        hall=hall, owner=clerk_a, category="other", description="A complaint"
    )
    counter = Counter.objects.get(hall=hall, number=1)
    users = {
        "greeter": greeter,
        "clerk": clerk_a,
        "other_hall_clerk": other_clerk,
        "other_hall_manager": outsider,
        "manager": manager,
    }
    values = {
        "hall": hall.code,
        "counter_id": counter.pk,
        "ticket_id": ticket.pk,
        "incident_id": incident.pk,
        "complaint_id": complaint.pk,
        "token": ticket.public_token,
        "code": "payment",
        "number": counter.number,
        "booking_code": "NOSUCHCODE",
    }
    return {"users": users, "devices": devices, "values": values}


def _fill(path: str, values: dict) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
        for converter in ("int", "slug", "str"):
            path = path.replace(f"<{converter}:{name}>", str(value))
    return path


def _client(world, principal: str, *, page: bool) -> tuple[APIClient, str]:
    """A client acting as ``principal``; pages take a device's token as ``?token=``."""
    client = APIClient()
    query = ""
    if principal in world["devices"]:
        token = world["devices"][principal]
        if page:
            query = f"?token={token}"
        else:
            client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    elif principal in world["users"]:
        client.force_login(world["users"][principal])
    return client, query


def _api_answer(world, principal, method, path) -> int:
    client, _ = _client(world, principal, page=False)
    url = _fill(path, world["values"])
    if method == "GET":
        return client.get(url).status_code
    return client.generic(method, url, "{}", content_type="application/json").status_code


def _page_answer(world, principal, route) -> int:
    client, query = _client(world, principal, page=True)
    values = world["values"]
    if route.startswith("display/"):  # a display's <code> is the hall's
        values = {**values, "code": values["hall"]}
    url = "/" + _fill(route, values) + query
    return client.get(url).status_code


def test_every_operation_and_page_has_a_row():
    operations = {f"{method} {path}" for method, path in OPERATIONS}
    assert sorted(operations - set(API_TABLE)) == []
    assert sorted(set(PAGES) - set(PAGE_TABLE)) == []
    assert sorted(set(API_TABLE) - operations) == []  # and no row for what is gone
    assert sorted(set(PAGE_TABLE) - set(PAGES)) == []


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_each_caller_gets_the_answer_of_the_table_from_the_api(world, method, path):
    measured = {p: _api_answer(world, p, method, path) for p in PRINCIPALS}
    if MEASURE:
        print(f'    "{method} {path}": {tuple(measured.values())},')
    row = API_TABLE.get(f"{method} {path}")
    assert measured == dict(zip(PRINCIPALS, row or (), strict=False)), (method, path)


@pytest.mark.parametrize("route", PAGES)
def test_each_caller_gets_the_answer_of_the_table_from_the_pages(world, route):
    measured = {p: _page_answer(world, p, route) for p in PRINCIPALS}
    if MEASURE:
        print(f'    "{route}": {tuple(measured.values())},')
    row = PAGE_TABLE.get(route)
    assert measured == dict(zip(PRINCIPALS, row or (), strict=False)), route


# Admission comes first (hall/access.py): a caller who may not act here is refused (403) whatever
# they send, so no row holds the 400 of an empty body for a caller from another hall, a device
# or a role the rule leaves out; a 400 in a row means the caller was let in.
# One row per operation or page: the answers of
#        anonymous, kiosk, display, rating_pad, greeter, clerk, other_hall_clerk,
#        other_hall_manager, manager
# (401/403/404, and a page's 302 to the sign-in page: refused; anything else: let in).
API_TABLE: dict[str, tuple[int, ...]] = {
    "GET /api/v1/halls/{hall}/apologies/": (401, 403, 403, 403, 200, 200, 403, 403, 200),
    # Appointments: booking is public (the phone's one-time code guards it); check-in issues a
    # ticket, so it is the kiosk's and the staff's as issuing is.
    "GET /api/v1/halls/{hall}/bookable/": (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/halls/{hall}/bookable/{code}/slots/": (
        400,
        400,
        400,
        400,
        400,
        400,
        400,
        400,
        400,
    ),
    "POST /api/v1/bookings/{booking_code}/cancel/": (400, 400, 400, 400, 400, 400, 400, 400, 400),
    "POST /api/v1/halls/{hall}/bookings/": (400, 400, 400, 400, 400, 400, 400, 400, 400),
    "POST /api/v1/halls/{hall}/bookings/check-in/": (401, 400, 403, 403, 400, 400, 403, 403, 400),
    "POST /api/v1/halls/{hall}/phone-codes/": (400, 400, 400, 400, 400, 400, 400, 400, 400),
    "GET /api/v1/halls/{hall}/business-types/": (401, 200, 200, 403, 200, 200, 403, 403, 200),
    "GET /api/v1/halls/{hall}/complaints/": (401, 403, 403, 403, 403, 200, 403, 403, 200),
    "GET /api/v1/halls/{hall}/counters/": (401, 200, 200, 403, 200, 200, 403, 403, 200),
    "GET /api/v1/halls/{hall}/incidents/": (401, 403, 403, 403, 200, 200, 403, 403, 200),
    "GET /api/v1/halls/{hall}/interruptions/": (401, 403, 403, 403, 403, 403, 403, 403, 200),
    "GET /api/v1/halls/{hall}/metrics/": (401, 403, 403, 403, 200, 200, 403, 403, 200),
    "GET /api/v1/halls/{hall}/metrics/hourly/": (401, 403, 403, 403, 200, 200, 403, 403, 200),
    "GET /api/v1/halls/{hall}/reports/daily/": (401, 403, 403, 403, 403, 403, 403, 403, 400),
    "GET /api/v1/halls/{hall}/snapshot/": (401, 200, 200, 403, 200, 200, 403, 403, 200),
    "GET /api/v1/reports/daily/": (401, 403, 403, 403, 403, 403, 403, 400, 400),
    "GET /api/v1/t/{token}/": (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/tickets/{ticket_id}/": (401, 403, 403, 403, 200, 200, 403, 403, 200),
    "POST /api/v1/auth/token/": (400, 400, 400, 400, 400, 400, 400, 400, 400),
    "POST /api/v1/complaints/{complaint_id}/reply/": (401, 403, 403, 403, 403, 400, 403, 403, 400),
    "POST /api/v1/counters/{counter_id}/call-next/": (401, 403, 403, 403, 403, 409, 403, 403, 409),
    "POST /api/v1/counters/{counter_id}/close/": (401, 403, 403, 403, 403, 409, 403, 403, 200),
    "POST /api/v1/counters/{counter_id}/finish/": (401, 403, 403, 403, 403, 409, 403, 403, 409),
    "POST /api/v1/counters/{counter_id}/no-show/": (401, 403, 403, 403, 403, 409, 403, 403, 409),
    "POST /api/v1/counters/{counter_id}/open/": (401, 403, 403, 403, 403, 200, 403, 403, 409),
    "POST /api/v1/counters/{counter_id}/pause/": (401, 403, 403, 403, 403, 400, 403, 403, 400),
    "POST /api/v1/counters/{counter_id}/recall/": (401, 403, 403, 403, 403, 409, 403, 403, 409),
    "POST /api/v1/counters/{counter_id}/requeue/": (401, 403, 403, 403, 403, 409, 403, 403, 409),
    "POST /api/v1/counters/{counter_id}/resume/": (401, 403, 403, 403, 403, 409, 403, 403, 409),
    "POST /api/v1/counters/{counter_id}/start/": (401, 403, 403, 403, 403, 409, 403, 403, 409),
    "POST /api/v1/counters/{counter_id}/transfer/": (401, 403, 403, 403, 403, 400, 403, 403, 400),
    "POST /api/v1/halls/{hall}/complaints/": (401, 403, 403, 403, 403, 400, 403, 403, 400),
    "POST /api/v1/halls/{hall}/incidents/": (401, 403, 403, 403, 403, 400, 403, 403, 400),
    "POST /api/v1/halls/{hall}/tickets/": (401, 400, 403, 403, 400, 400, 403, 403, 400),
    "POST /api/v1/incidents/{incident_id}/acknowledge/": (
        401,
        401,
        401,
        401,
        403,
        200,
        403,
        403,
        200,
    ),
    "POST /api/v1/incidents/{incident_id}/resolve/": (401, 403, 403, 403, 403, 200, 403, 403, 409),
    "POST /api/v1/tickets/{ticket_id}/cancel/": (401, 403, 403, 403, 200, 409, 403, 403, 409),
    "POST /api/v1/tickets/{ticket_id}/rating/": (401, 403, 403, 400, 400, 400, 403, 403, 400),
    "POST /api/v1/tickets/{ticket_id}/transfer/": (401, 403, 403, 403, 400, 400, 403, 403, 400),
}

PAGE_TABLE: dict[str, tuple[int, ...]] = {
    "": (302, 302, 302, 302, 200, 200, 200, 200, 200),
    "accounts/login/": (200, 200, 200, 200, 302, 302, 302, 302, 302),
    "accounts/logout/": (405, 405, 405, 405, 405, 405, 405, 405, 405),
    "console/<slug:hall>/": (302, 302, 302, 302, 403, 200, 403, 403, 200),
    "console/<slug:hall>/complaints/": (302, 302, 302, 302, 403, 200, 403, 403, 200),
    "console/<slug:hall>/interruptions/": (302, 302, 302, 302, 403, 403, 403, 403, 200),
    "console/counters/<int:counter_id>/": (302, 302, 302, 302, 403, 302, 403, 403, 200),
    "console/counters/<int:counter_id>/incidents/": (302, 302, 302, 302, 403, 200, 403, 403, 200),
    "console/counters/<int:counter_id>/panel/": (302, 302, 302, 302, 403, 403, 403, 403, 200),
    "console/counters/<int:counter_id>/transfer/": (302, 302, 302, 302, 403, 403, 403, 403, 200),
    # The first address of a counter's screen: a redirect to the one by hall and number.
    "display/counters/<int:counter_id>/": (302, 302, 302, 302, 302, 302, 302, 302, 302),
    "display/<slug:code>/counters/<int:number>/": (403, 200, 200, 403, 200, 200, 403, 403, 200),
    "devices/<slug:hall>/": (302, 302, 302, 302, 403, 403, 403, 403, 200),
    "display/halls/<slug:code>/lobby/": (403, 200, 200, 403, 200, 200, 403, 403, 200),
    "greeter/<slug:hall>/": (302, 302, 302, 302, 200, 403, 403, 403, 200),
    "greeter/<slug:hall>/queue/": (302, 302, 302, 302, 200, 403, 403, 403, 200),
    "greeter/<slug:hall>/tickets/<int:ticket_id>/print/": (
        302,
        302,
        302,
        302,
        302,
        403,
        403,
        403,
        302,
    ),
    "incidents/<int:incident_id>/acknowledge/": (403, 403, 403, 403, 403, 403, 403, 403, 403),
    "kiosk/<slug:hall>/": (403, 200, 403, 403, 200, 403, 403, 403, 200),
    "kiosk/<slug:hall>/board/": (403, 200, 403, 403, 200, 403, 403, 403, 200),
    "kiosk/<slug:hall>/confirm/<slug:code>/": (403, 200, 403, 403, 200, 403, 403, 403, 200),
    "planner/<slug:hall>/": (302, 302, 302, 302, 403, 403, 403, 403, 200),
    "rate/<int:counter_id>/": (403, 403, 403, 200, 200, 200, 403, 403, 200),
    "reports/<slug:hall>/": (302, 302, 302, 302, 403, 403, 403, 403, 200),
    "t/<slug:token>/": (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "t/<slug:token>/card/": (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "t/<slug:token>/ticket/": (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "wall/<slug:hall>/": (302, 302, 302, 302, 403, 200, 403, 403, 200),
}
