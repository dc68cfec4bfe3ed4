"""The transfer dialog lists exactly the targets counter_transfer accepts: every listed business
type and counter is accepted by the service, every omitted one refused.

Hall h1 (conftest) plus: counter 5 (VIP only) serving service and broadband, an inactive
business type (cards, served by counter 3), consult (served by no counter) and broadband
(served only by the VIP-only counter 5). Counter 1 holds the ticket; 2 is open, 3 paused,
4 closed, 5 open.
"""

import pytest
from django.db import transaction

from counters.models import Counter, VipMode
from counters.selectors import transfer_targets
from counters.services import (
    counter_call_next,
    counter_open,
    counter_pause,
    counter_start,
    counter_transfer,
)
from hall.errors import TransferRefused
from hall.models import BusinessType, Role, StaffMembership
from queueing.models import Ticket
from tests.conftest import counter
from tests.factories import issue

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


@pytest.fixture
def busy_hall(hall, other_hall, clerk_a, clerk_b, manager, django_user_model):
    def new_type(code, prefix, active=True):
        return BusinessType.objects.create(
            hall=hall, code=code, prefix=prefix, name_zh=code, name_en=code, active=active
        )

    cards, broadband = new_type("cards", "D", active=False), new_type("broadband", "H")
    new_type("consult", "E")
    counter(hall, 3).business_types.add(cards)
    vip_only = Counter.objects.create(hall=hall, number=5, vip_mode=VipMode.VIP_ONLY)
    vip_only.business_types.set([hall.business_types.get(code="service"), broadband])
    clerk_c = django_user_model.objects.create_user("clerk_c", password="pw")
    StaffMembership.objects.create(user=clerk_c, hall=hall, role=Role.CLERK)
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    counter_open(counter_id=counter(hall, 2).pk, user=clerk_b)
    counter_open(counter_id=counter(hall, 3).pk, user=manager)
    counter_pause(counter_id=counter(hall, 3).pk, user=manager, reason="break")
    counter_open(counter_id=vip_only.pk, user=clerk_c)
    return hall


def accepted(c, user, **target) -> bool:
    """Would the service take the transfer? Tried for real, then rolled back."""
    try:
        with transaction.atomic():
            counter_transfer(counter_id=c.pk, user=user, **target)
            raise Rollback
    except Rollback:
        return True
    except TransferRefused:
        return False


def assert_listed_is_accepted(hall, c, user, other_hall):
    ticket = Ticket.objects.get(counter=c, status__in=["called", "serving"])
    targets = transfer_targets(counter=c, ticket=ticket)
    listed_types = {bt.code for bt in targets.business_types}
    listed_counters = {t.pk for t in targets.counters}
    all_types = [bt.code for bt in BusinessType.objects.filter(hall__in=[hall, other_hall])]
    for code in [*all_types, "nonexistent"]:
        assert accepted(c, user, business_type_code=code) == (code in listed_types), code
    for other in Counter.objects.filter(hall__in=[hall, other_hall]):
        got = accepted(c, user, target_counter_id=other.pk)
        assert got == (other.pk in listed_counters), f"counter {other.number} of {other.hall}"
    return listed_types, {Counter.objects.get(pk=pk).number for pk in listed_counters}


@pytest.mark.parametrize("serving", [False, True])
def test_normal_ticket_targets_are_exactly_what_the_service_accepts(
    busy_hall, clerk_a, other_hall, serving
):
    c = counter(busy_hall, 1)
    issue(busy_hall, "payment", by=clerk_a)
    counter_call_next(counter_id=c.pk, user=clerk_a)
    if serving:
        counter_start(counter_id=c.pk, user=clerk_a)
    types, counters = assert_listed_is_accepted(busy_hall, c, clerk_a, other_hall)
    # topup: served by 3; service: by 2, 3, 4 (closed counters count for a business type).
    # Not payment (its own), cards (inactive), consult (nobody), broadband (VIP-only counter).
    assert types == {"topup", "service"}
    # 2 open and 3 paused serve payment; 4 is closed and does not; 5 is VIP only.
    assert counters == {2, 3}


def test_vip_ticket_may_also_go_to_a_vip_only_counters_business(busy_hall, clerk_a, other_hall):
    c = counter(busy_hall, 2)
    clerk_b_user = busy_hall.memberships.get(user__username="clerk_b").user
    issue(busy_hall, "service", by=clerk_a, lane="vip", reason="vip")
    counter_call_next(counter_id=c.pk, user=clerk_b_user)
    types, counters = assert_listed_is_accepted(busy_hall, c, clerk_b_user, other_hall)
    assert "broadband" in types
    assert counters == {3, 5}  # 4 is closed; 5 is VIP only and this ticket is VIP


def test_nothing_is_listed_when_no_one_else_can_take_the_ticket(hall, clerk_a, other_hall):
    # Counter 4 serves only service; close every other counter and deactivate the rest.
    c = counter(hall, 4)
    counter_open(counter_id=c.pk, user=clerk_a)
    issue(hall, "service", by=clerk_a)
    counter_call_next(counter_id=c.pk, user=clerk_a)
    BusinessType.objects.filter(hall=hall).exclude(code="service").update(active=False)
    types, counters = assert_listed_is_accepted(hall, c, clerk_a, other_hall)
    assert types == set() and counters == set()
