"""The hot paths, issuing a ticket and calling the next one, cost a fixed number of queries: as many
with 500 people waiting (across lanes and business types) as with 5 (Zulip's query-count asserts).

What each query is for, so that a new one is a decision rather than an accident:

ticket_issue (kiosk): the business type; how many counters serve it; the number (one UPSERT); the
ticket; the people ahead (one COUNT); the audit event; the ticket's estimated wait (the hall's
state for queueing.forecast: counters with their business types, the open tickets, the lane
settings: 3). A greeter's issue also reads their role.

counter_call_next: the counter's hall; the hall lock; the counter lock; the clerk's role; "is a
ticket already active here"; the counter's business types; the router's candidates (its own window,
then the first three of each lane: 4); the hall's lane weights; clear the moving window slots; the
compare-and-set claim; greeted; attended; the window read back; the audit event.

The live event's waiting board (both paths) carries one forecast for every business type: the
types with their counts, and the hall's state as above (4; it was the one query before the
forecast). The history the forecast learns from (service times, arrival rates) is cached per hall
(queueing.estimates): a cold cache adds 3 queries once per few minutes; here it is warm.

Over HTTP add the caller: the device (kiosk) and the hall; or the clerk's API token. Transaction
control (BEGIN, COMMIT, savepoints) is not counted.
"""

import datetime

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

# Both include the live event: the hall's next seq and the waiting board the message carries;
# a call also the touched counters' seqs and states (display/publisher.py).
ISSUE_QUERIES = 14  # 8 before the forecast: + the estimate's hall state (3) + the board's (3)
GREETER_ISSUE_QUERIES = ISSUE_QUERIES + 1  # the greeter's role
CALL_NEXT_QUERIES = 26  # 23 before the forecast: + the board's hall state (3)
API_ISSUE_QUERIES = ISSUE_QUERIES + 2  # the device, the hall
API_CALL_NEXT_QUERIES = CALL_NEXT_QUERIES + 1  # the token

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


def test_over_http_issue_and_call_next_cost_the_same_with_5_or_500_waiting(
    api, hall, kiosk, clerk_a
):
    c3 = counter(hall, 3)
    counter_open(counter_id=c3.pk, user=clerk_a)
    token = Token.objects.create(user=clerk_a).key
    queue_up(hall, 5)
    api.as_device(kiosk).post(
        f"/api/v1/halls/{hall.code}/tickets/", {"business_type": "payment"}, format="json"
    )
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    api.post(f"/api/v1/counters/{c3.pk}/call-next/")
    counts = {}
    for total in (5, 500):
        queue_up(hall, total - waiting(hall))
        api.as_device(kiosk)  # its last-seen time was written by the first request, not again
        with CaptureQueriesContext(connection) as issuing:
            issued = api.post(
                f"/api/v1/halls/{hall.code}/tickets/", {"business_type": "topup"}, format="json"
            )
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        counter_start(counter_id=c3.pk, user=clerk_a)
        counter_finish(counter_id=c3.pk, user=clerk_a)
        with CaptureQueriesContext(connection) as calling:
            called = api.post(f"/api/v1/counters/{c3.pk}/call-next/")
        assert (issued.status_code, called.status_code) == (201, 200)
        assert called.json()["called"]["counter"]["number"] == 3
        counts[total] = (len(queries(issuing)), len(queries(calling)))

    assert counts[5] == counts[500] == (API_ISSUE_QUERIES, API_CALL_NEXT_QUERIES), counts
