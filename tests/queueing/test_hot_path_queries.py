"""The hot paths cost a fixed number of queries: as many with 500 people waiting (across lanes
and business types) as with 5 (Zulip's query-count asserts). Nothing in them reads the whole hall
or forecasts (DESIGN invariant 7): the board comes after commit (display.board).

What each query is for, so that a new one is a decision rather than an accident:

ticket_issue (kiosk): the business type, with the counters serving it, the people ahead and any
fault suspending it (one query, subqueries); the number (one UPSERT); the ticket; the audit event
with its seq (PostgreSQL: one statement; SQLite: the seq UPSERT, then the insert). A greeter's
issue also reads their role. The estimate comes from the hall's cached board, read before the
transaction (queueing.estimates).

counter_call_next: the hall lock and the counter lock with the clerk's role, the counter's
business types and the hall's lane weights (PostgreSQL: one statement; the counter's hall id is
known to the process); the router's candidates with "is a ticket already active here" (the
counter's active ticket, its own window, then the first three of each lane: one UNION ALL);
clear the moving window slots; the compare-and-set claim;
greeted and attended (one UPDATE); the window read back; the audit event; the touched counters'
seq.

start / finish / no-show / recall: the hall lock with the counter lock and the role (one
statement on PostgreSQL); the active ticket with the counter's window (one query, handed to the
live frame); the ticket's update; the audit event; the counter's seq.

Over HTTP add the caller: nothing (device and API tokens are cached per process, hall.auth; a
device's hall comes with it), and with an Idempotency-Key its claim and its stored response.
Transaction control (BEGIN, COMMIT, savepoints) is not counted.
"""

import datetime
from uuid import uuid4

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from counters.services import counter_call_next, counter_finish, counter_open, counter_start
from hall.models import BusinessType
from queueing.models import Lane, PriorityReason, Status, Ticket, TicketSequence
from queueing.numbering import format_number
from queueing.selectors import hall_state
from tests.conftest import counter
from tests.factories import issue

# PostgreSQL writes the audit event and takes its seq in one statement; SQLite in two.
_EVENT = 1 if connection.vendor == "postgresql" else 2
ISSUE_QUERIES = 3 + _EVENT
GREETER_ISSUE_QUERIES = ISSUE_QUERIES + 1  # the greeter's role
# PostgreSQL folds the hall lock into the counter's, and call-next's business types and lane
# settings with it; SQLite has no hall lock and reads those two apart.
CALL_NEXT_QUERIES = (7 if connection.vendor == "postgresql" else 9) + _EVENT
ACTION_QUERIES = 4 + _EVENT  # start, finish, no-show, recall
IDEMPOTENCY_QUERIES = 2  # the key's claim, the stored response
API_ISSUE_QUERIES = ISSUE_QUERIES + IDEMPOTENCY_QUERIES
API_CALL_NEXT_QUERIES = CALL_NEXT_QUERIES + IDEMPOTENCY_QUERIES
API_ACTION_QUERIES = ACTION_QUERIES + IDEMPOTENCY_QUERIES

_TRANSACTION_CONTROL = (
    "SAVEPOINT",
    "RELEASE SAVEPOINT",
    "ROLLBACK TO SAVEPOINT",
    "BEGIN",
    "COMMIT",
)
# The mix waiting in a telecom hall: mostly normal, some elderly/disabled, a few VIP.
_MIX = (
    (Lane.NORMAL, PriorityReason.NONE),
    (Lane.PRIORITY, PriorityReason.ELDERLY),
    (Lane.NORMAL, PriorityReason.NONE),
    (Lane.VIP, PriorityReason.VIP),
    (Lane.NORMAL, PriorityReason.NONE),
    (Lane.PRIORITY, PriorityReason.DISABLED),
)


def queries(capture: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"] for q in capture.captured_queries if not q["sql"].startswith(_TRANSACTION_CONTROL)
    ]


def queue_up(hall, n: int) -> None:
    """``n`` more waiting tickets, all business types and lanes, issued over the last 20 minutes.

    Written in bulk (issuing 500 through the service would only slow the test down); the numbers
    continue each prefix's sequence, as the service's would.
    """
    now = timezone.now()
    service_date = hall.service_date(now)
    types = list(BusinessType.objects.filter(hall=hall).order_by("prefix"))
    last = {
        s.prefix: s.last_value
        for s in TicketSequence.objects.filter(hall=hall, service_date=service_date)
    }
    tickets = []
    for i in range(n):
        business_type = types[i % len(types)]
        lane, reason = _MIX[i % len(_MIX)]
        sequence = last[business_type.prefix] = last.get(business_type.prefix, 0) + 1
        tickets.append(
            Ticket(
                hall=hall,
                business_type=business_type,
                prefix=business_type.prefix,
                sequence=sequence,
                number=format_number(business_type.prefix, sequence),
                service_date=service_date,
                lane=lane,
                priority_reason=reason,
                issued_at=now - datetime.timedelta(seconds=1200 * (n - i) / n),
                public_token=f"bulk-{business_type.prefix}-{sequence}",
            )
        )
    Ticket.objects.bulk_create(tickets)
    for prefix, value in last.items():
        TicketSequence.objects.update_or_create(
            hall=hall, prefix=prefix, service_date=service_date, defaults={"last_value": value}
        )
    hall_state(hall=hall)  # a running hall's history is cached (queueing.estimates): warm it


def waiting(hall) -> int:
    return Ticket.objects.filter(hall=hall, status=Status.WAITING).count()


def test_issuing_costs_the_same_queries_with_5_or_500_waiting(hall, kiosk, greeter):
    counts = {}
    for total in (5, 500):
        queue_up(hall, total - waiting(hall))
        with CaptureQueriesContext(connection) as kiosk_issue:
            issue(hall, "payment", device=kiosk, lane=Lane.PRIORITY, reason="elderly")
        with CaptureQueriesContext(connection) as greeter_issue:
            issue(hall, "service", by=greeter, lane=Lane.VIP)
        counts[total] = (len(queries(kiosk_issue)), len(queries(greeter_issue)))

    assert counts[5] == counts[500] == (ISSUE_QUERIES, GREETER_ISSUE_QUERIES), counts


def test_calling_next_costs_the_same_queries_with_5_or_500_waiting(hall, clerk_a):
    """Counter 3 serves every business type; each measured call takes its greeted ticket and
    refills greeted and attended, the full path."""
    c3 = counter(hall, 3)
    counter_open(counter_id=c3.pk, user=clerk_a)
    queue_up(hall, 5)
    counter_call_next(counter_id=c3.pk, user=clerk_a)  # fills the window
    counts = {}
    for total in (5, 500):
        queue_up(hall, total - waiting(hall))
        counter_start(counter_id=c3.pk, user=clerk_a)
        counter_finish(counter_id=c3.pk, user=clerk_a)
        with CaptureQueriesContext(connection) as call:
            window = counter_call_next(counter_id=c3.pk, user=clerk_a)
        assert None not in (window.called, window.greeted, window.attended)
        counts[total] = len(queries(call))

    assert counts[5] == counts[500] == CALL_NEXT_QUERIES, counts


def test_over_http_every_hot_path_costs_the_same_with_5_or_500_waiting(
    api, hall, kiosk, clerk_a, time_machine
):
    """As a kiosk and a clerk's console send them: with an Idempotency-Key each. The recall
    comes after the hall's cool-down (issue 16), whose check reads the rows already locked."""
    hall.recall_cooldown_seconds = 30
    hall.save()
    c3 = counter(hall, 3)
    counter_open(counter_id=c3.pk, user=clerk_a)
    token = Token.objects.create(user=clerk_a).key
    queue_up(hall, 5)

    def post(path, body=None, *, device=False):
        if device:
            api.as_device(kiosk)
        else:
            api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        with CaptureQueriesContext(connection) as capture:
            response = api.post(path, body or {}, format="json", HTTP_IDEMPOTENCY_KEY=uuid4().hex)
        assert response.status_code in (200, 201), response.json()
        return response, len(queries(capture))

    counter_path = f"/api/v1/counters/{c3.pk}"
    post(f"/api/v1/halls/{hall.code}/tickets/", {"business_type": "payment"}, device=True)
    post(f"{counter_path}/call-next/")  # warm: the caller is cached, the window filled
    post(f"{counter_path}/no-show/")
    counts = {}
    for total in (5, 500):
        queue_up(hall, total - waiting(hall))
        _, issuing = post(
            f"/api/v1/halls/{hall.code}/tickets/", {"business_type": "topup"}, device=True
        )
        called, calling = post(f"{counter_path}/call-next/")
        assert called.json()["called"]["counter"]["number"] == 3
        time_machine.move_to(timezone.now() + datetime.timedelta(seconds=31))
        _, recalling = post(f"{counter_path}/recall/")
        _, starting = post(f"{counter_path}/start/")
        _, finishing = post(f"{counter_path}/finish/", {"outcome": "completed"})
        post(f"{counter_path}/call-next/")
        _, no_show = post(f"{counter_path}/no-show/")
        counts[total] = (issuing, calling, recalling, starting, finishing, no_show)

    assert (
        counts[5]
        == counts[500]
        == (
            API_ISSUE_QUERIES,
            API_CALL_NEXT_QUERIES,
            *[API_ACTION_QUERIES] * 4,
        )
    ), counts
