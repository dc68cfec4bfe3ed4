"""A transfer never strands a customer at a counter that would not call them.

Found by the concurrency hammer (tests/tools/hammer.py): a normal ticket transferred to a VIP-only
counter was pinned there, and neither that counter (VIP only) nor any other (the pin) would ever
call it. Hall h1 (conftest) gets a fifth counter here: VIP only, serving payment and service.
"""

import pytest

from counters.models import Counter, VipMode
from counters.services import counter_call_next, counter_open, counter_transfer
from hall.errors import TransferRefused
from hall.models import BusinessType
from queueing.models import Status, Ticket
from tests.conftest import counter
from tests.factories import issue


@pytest.fixture
def vip_only(hall):
    c5 = Counter.objects.create(hall=hall, number=5, vip_mode=VipMode.VIP_ONLY, kind="vip")
    c5.business_types.set(BusinessType.objects.filter(hall=hall, code__in=["payment", "service"]))
    return c5


def _called_at_counter_1(hall, clerk_a, **ticket):
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    issue(hall, "payment", **ticket)
    return c1, counter_call_next(counter_id=c1.pk, user=clerk_a).called


def test_a_normal_ticket_is_not_transferred_to_a_vip_only_counter(
    hall, greeter, clerk_a, clerk_b, vip_only
):
    counter_open(counter_id=vip_only.pk, user=clerk_b)
    c1, ticket = _called_at_counter_1(hall, clerk_a, by=greeter)

    with pytest.raises(TransferRefused) as refused:
        counter_transfer(counter_id=c1.pk, user=clerk_a, target_counter_id=vip_only.pk)

    assert refused.value.fields == {"counter": "VIP only"}
    ticket.refresh_from_db()
    assert (ticket.status, ticket.counter_id, ticket.pinned_counter_id) == (
        Status.CALLED,
        c1.pk,
        None,
    )


def test_a_vip_ticket_may_be_transferred_to_a_vip_only_counter_which_calls_it(
    hall, greeter, clerk_a, clerk_b, vip_only
):
    counter_open(counter_id=vip_only.pk, user=clerk_b)
    c1, ticket = _called_at_counter_1(hall, clerk_a, by=greeter, lane="vip")

    counter_transfer(counter_id=c1.pk, user=clerk_a, target_counter_id=vip_only.pk)

    assert counter_call_next(counter_id=vip_only.pk, user=clerk_b).called.pk == ticket.pk


def test_a_normal_ticket_is_not_transferred_to_a_type_only_a_vip_only_counter_serves(
    hall, greeter, clerk_a, vip_only
):
    """Counter 1 serves payment and topup; "service" is served by 2, 3, 4 and the VIP-only 5.
    With 2, 3 and 4 no longer serving it, only the VIP-only counter would be left."""
    service = BusinessType.objects.get(hall=hall, code="service")
    for number in (2, 3, 4):
        counter(hall, number).business_types.remove(service)
    c1, ticket = _called_at_counter_1(hall, clerk_a, by=greeter)

    with pytest.raises(TransferRefused):
        counter_transfer(counter_id=c1.pk, user=clerk_a, business_type_code="service")

    assert Ticket.objects.get(pk=ticket.pk).status == Status.CALLED
