"""Transferring a waiting ticket to another business type (the greeter sent the customer to the
wrong queue, or the customer changed their mind): the service and POST /tickets/{id}/transfer/.

Hall h1 (conftest): counter 1 serves payment+topup, counter 2 payment+service, counter 3 is
VIP-first and serves everything, counter 4 serves service only.
"""

import json

import pytest
from channels.layers import get_channel_layer

from counters.models import Counter, VipMode
from counters.services import counter_call_next, counter_open, counter_transfer
from display.publisher import hall_group
from hall.errors import Forbidden, InvalidTransition, TransferRefused
from hall.models import AuditEvent, BusinessType, EventKind
from queueing.models import Lane, PriorityReason, Slot, Status, Ticket
from queueing.selectors import ticket_position
from queueing.services import ticket_transfer
from tests.conftest import counter
from tests.factories import issue, minutes_ago


def reload(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_related("business_type").get(pk=ticket.pk)


def events(kind=None) -> list[AuditEvent]:
    rows = AuditEvent.objects.order_by("id")
    return list(rows.filter(kind=kind) if kind else rows)


def url(ticket) -> str:
    return f"/api/v1/tickets/{ticket.pk}/transfer/"


def state(ticket) -> tuple:
    t = reload(ticket)
    return (
        t.status,
        t.business_type.code,
        t.transfer_count,
        t.window_counter_id,
        t.window_slot,
        t.pinned_counter_id,
    )


@pytest.fixture
def broadband(hall):
    """A business type no counter of h1 serves."""
    return BusinessType.objects.create(
        hall=hall, code="broadband", prefix="H", name_zh="宽带", name_en="Broadband"
    )


# --- the service -----------------------------------------------------------------------------


def test_the_customer_keeps_their_number_and_place_in_the_new_queue(hall, greeter, clerk_b):
    earlier_service = issue(hall, "service", by=greeter, at=minutes_ago(15))
    wrong_queue = issue(hall, "payment", by=greeter, at=minutes_ago(10))
    later_service = issue(hall, "service", by=greeter, at=minutes_ago(5))

    moved = ticket_transfer(ticket=wrong_queue, business_type_code="service", actor=greeter)

    moved = reload(moved)
    assert (moved.number, moved.issued_at) == (wrong_queue.number, wrong_queue.issued_at)
    assert (moved.status, moved.business_type.code, moved.transfer_count) == (
        Status.WAITING,
        "service",
        1,
    )
    assert ticket_position(ticket=moved)[0] == 1  # only the earlier service customer
    assert ticket_position(ticket=reload(later_service))[0] == 2
    c4 = counter(hall, 4)  # serves service only
    counter_open(counter_id=c4.pk, user=clerk_b)
    window = counter_call_next(counter_id=c4.pk, user=clerk_b)
    assert (window.called, window.greeted, window.attended) == (
        earlier_service,
        moved,
        later_service,
    )


def test_a_greeted_ticket_goes_back_to_the_pool_and_the_counter_display_hears_it(
    hall, greeter, clerk_a, monkeypatch, django_capture_on_commit_callbacks, settings
):
    # What the displays are sent, not the transport: the in-memory layer sends inline even in
    # the services run (see tests/display/conftest.py; Redis is tested end to end there).
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    first = issue(hall, "payment", by=greeter, at=minutes_ago(9))
    greeted = issue(hall, "payment", by=greeter, at=minutes_ago(8))
    attended = issue(hall, "payment", by=greeter, at=minutes_ago(7))
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    window = counter_call_next(counter_id=c1.pk, user=clerk_a)
    assert (window.called, window.greeted, window.attended) == (first, greeted, attended)
    sent = []
    layer = get_channel_layer()
    real_send = layer.group_send

    async def group_send(group, message):
        sent.append((group, json.loads(message["text"])))
        await real_send(group, message)

    monkeypatch.setattr(layer, "group_send", group_send)

    with django_capture_on_commit_callbacks(execute=True):
        ticket_transfer(ticket=greeted, business_type_code="topup", actor=greeter)

    assert state(greeted) == (Status.WAITING, "topup", 1, None, None, None)
    assert reload(attended).window_slot == Slot.ATTENDED  # the rest of the window stays
    frame = next(f for g, f in sent if g == hall_group(hall.pk))
    assert frame["type"] == "ticket.transferred"
    assert (frame["ticket"]["number"], frame["business_type"]) == (greeted.number, "topup")
    assert frame["to_counter"] is None
    own = next(c for c in frame["counters"] if c["id"] == c1.pk)
    assert own["greeted"] is None and own["attended"]["number"] == attended.number
    # The counter's own display stream gets it too.
    assert any(g == f"counter.{c1.pk}" for g, _ in sent)


def test_a_pinned_ticket_is_unpinned_so_the_new_type_decides_who_calls_it(
    hall, greeter, clerk_a, clerk_b
):
    ticket = issue(hall, "payment", by=greeter, at=minutes_ago(10))
    c1, c2 = counter(hall, 1), counter(hall, 2)
    counter_open(counter_id=c1.pk, user=clerk_a)
    counter_open(counter_id=c2.pk, user=clerk_b)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    counter_transfer(counter_id=c1.pk, user=clerk_a, target_counter_id=c2.pk)
    assert reload(ticket).pinned_counter_id == c2.pk

    ticket_transfer(ticket=ticket, business_type_code="topup", actor=greeter)

    assert state(ticket) == (Status.WAITING, "topup", 2, None, None, None)
    assert counter_call_next(counter_id=c1.pk, user=clerk_a).called == ticket


def test_one_audit_event_records_who_moved_what_from_where(hall, greeter):
    ticket = issue(hall, "payment", by=greeter)
    before = len(events())

    ticket_transfer(ticket=ticket, business_type_code="topup", actor=greeter, reason="改主意")

    new = events()[before:]
    assert [e.kind for e in new] == [EventKind.TICKET_TRANSFERRED]
    assert new[0].actor == greeter and new[0].ticket_id == ticket.pk
    assert new[0].data["previous"]["business_type"] == "payment"
    assert (new[0].data["business_type"], new[0].data["reason"]) == ("topup", "改主意")


@pytest.mark.parametrize(
    "code, field",
    [
        ("nope", "unavailable"),
        ("payment", "same business type"),
        ("broadband", "no counter serves it"),
    ],
)
def test_refused_destinations_change_nothing(hall, greeter, broadband, code, field):
    ticket = issue(hall, "payment", by=greeter)
    before, count = state(ticket), len(events())

    with pytest.raises(TransferRefused) as refused:
        ticket_transfer(ticket=ticket, business_type_code=code, actor=greeter)

    assert refused.value.fields == {"business_type": field}
    assert (state(ticket), len(events())) == (before, count)


def test_an_inactive_type_is_refused(hall, greeter):
    BusinessType.objects.filter(hall=hall, code="topup").update(active=False)
    ticket = issue(hall, "payment", by=greeter)

    with pytest.raises(TransferRefused):
        ticket_transfer(ticket=ticket, business_type_code="topup", actor=greeter)


def test_a_type_served_only_by_a_vip_only_counter_takes_vip_tickets_only(hall, greeter):
    vip_room = Counter.objects.create(hall=hall, number=9, vip_mode=VipMode.VIP_ONLY)
    vip_room.business_types.set(
        [BusinessType.objects.create(hall=hall, code="vipdesk", prefix="V", name_zh="大客户")]
    )
    normal = issue(hall, "payment", by=greeter)
    vip = issue(hall, "payment", by=greeter, lane=Lane.VIP, reason=PriorityReason.VIP)

    with pytest.raises(TransferRefused):
        ticket_transfer(ticket=normal, business_type_code="vipdesk", actor=greeter)
    ticket_transfer(ticket=vip, business_type_code="vipdesk", actor=greeter)

    assert reload(vip).business_type.code == "vipdesk"


def test_only_a_waiting_ticket_can_be_transferred_here(hall, greeter, clerk_a):
    ticket = issue(hall, "payment", by=greeter)
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    count = len(events())

    with pytest.raises(InvalidTransition):
        ticket_transfer(ticket=ticket, business_type_code="topup", actor=greeter)

    assert reload(ticket).status == Status.CALLED and len(events()) == count


def test_staff_of_another_hall_may_not_transfer(hall, greeter, outsider):
    ticket = issue(hall, "payment", by=greeter)

    with pytest.raises(Forbidden):
        ticket_transfer(ticket=ticket, business_type_code="topup", actor=outsider)

    assert reload(ticket).business_type.code == "payment"


# --- the API ---------------------------------------------------------------------------------


def test_api_answers_the_moved_ticket_with_its_original_issue_time(api, hall, greeter, manager):
    ticket = issue(hall, "payment", by=greeter, at=minutes_ago(12))

    response = api.as_user(greeter).post(url(ticket), {"business_type": "topup"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["number"], body["business_type"]) == (
        ticket.pk,
        ticket.number,
        "topup",
    )
    assert (body["status"], body["transfer_count"]) == ("waiting", 1)
    seen = api.as_user(manager).get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert seen["issued_at"] == body["issued_at"]
    assert reload(ticket).issued_at == ticket.issued_at


def test_api_replay_with_the_same_key_transfers_once(api, hall, greeter):
    ticket = issue(hall, "payment", by=greeter)
    client = api.as_user(greeter)
    headers = {"HTTP_IDEMPOTENCY_KEY": "transfer-tap-1"}

    first = client.post(url(ticket), {"business_type": "topup"}, format="json", **headers)
    again = client.post(url(ticket), {"business_type": "topup"}, format="json", **headers)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert reload(ticket).transfer_count == 1
    assert len(events(EventKind.TICKET_TRANSFERRED)) == 1


@pytest.mark.parametrize(
    "who, body, status, code",
    [
        ("greeter", {"business_type": "payment"}, 400, "transfer_refused"),
        ("greeter", {"business_type": "nope"}, 400, "transfer_refused"),
        ("greeter", {"business_type": "broadband"}, 400, "transfer_refused"),
        ("greeter", {}, 400, "invalid"),
        ("greeter", {"business_type": ["topup"]}, 400, "invalid"),
        ("greeter", {"business_type": "topup", "reason": ["x"]}, 400, "invalid"),
        ("greeter", {"business_type": "topup", "reason": "x" * 201}, 400, "invalid"),
        ("outsider", {"business_type": "topup"}, 403, "forbidden"),
        ("kiosk", {"business_type": "topup"}, 403, "forbidden"),
        ("anon", {"business_type": "topup"}, 401, "not_authenticated"),
    ],
)
def test_api_refusals_have_the_error_shape_and_change_nothing(
    api, hall, greeter, outsider, kiosk, broadband, who, body, status, code
):
    ticket = issue(hall, "payment", by=greeter)
    before, count = state(ticket), len(events())
    client = {
        "greeter": lambda: api.as_user(greeter),
        "outsider": lambda: api.as_user(outsider),
        "kiosk": lambda: api.as_device(kiosk),
        "anon": lambda: api,
    }[who]()

    response = client.post(url(ticket), body, format="json")

    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert (state(ticket), len(events())) == (before, count)


def test_api_a_called_ticket_is_a_conflict(api, hall, greeter, clerk_a):
    ticket = issue(hall, "payment", by=greeter)
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    counter_call_next(counter_id=c1.pk, user=clerk_a)

    response = api.as_user(greeter).post(url(ticket), {"business_type": "topup"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    assert reload(ticket).business_type.code == "payment"


def test_api_unknown_ticket_is_404(api, hall, greeter):
    response = api.as_user(greeter).post(
        "/api/v1/tickets/999999/transfer/", {"business_type": "topup"}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
