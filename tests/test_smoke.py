from counters.services import counter_call_next, counter_open
from tests.conftest import counter
from tests.factories import issue


def test_a_kiosk_ticket_is_called_by_an_open_counter(hall, kiosk, clerk_a):
    ticket = issue(hall, "payment", device=kiosk)
    assert ticket.number == "A001"
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    window = counter_call_next(counter_id=c1.pk, user=clerk_a)
    assert window.called == ticket
