"""Issue 16, recall rules: a recall within the hall's cool-down of the last call or recall is
refused (409 ``recall_too_soon`` with ``retry_after``); displays say which call it is; past the
recall limit the console offers no-show first.

The hall fixture recalls without a cool-down (conftest); these tests set it.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from counters.services import counter_call_next, counter_recall
from display.selectors import counter_states, recent_calls
from hall.errors import RecallTooSoon
from hall.models import AuditEvent, EventKind, Hall
from tests.counters.actions import opened, reload
from tests.factories import issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def cooled(hall):
    hall.recall_cooldown_seconds = 30
    hall.save(update_fields=["recall_cooldown_seconds"])
    return hall


def called_at_counter_1(hall, greeter, clerk_a, now):
    ticket = issue(hall, by=greeter, at=now - datetime.timedelta(minutes=1))
    c = opened(hall, 1, clerk_a)
    counter_call_next(counter_id=c.pk, user=clerk_a, now=now)
    return ticket, c


def test_the_cool_down_is_30_seconds_by_default():
    assert Hall._meta.get_field("recall_cooldown_seconds").default == 30


def test_a_recall_within_the_cool_down_of_the_call_is_refused_with_the_seconds_left(
    cooled, greeter, clerk_a
):
    now = timezone.now()
    ticket, c = called_at_counter_1(cooled, greeter, clerk_a, now)

    with pytest.raises(RecallTooSoon) as refused:
        counter_recall(counter_id=c.pk, user=clerk_a, now=now + datetime.timedelta(seconds=12))

    assert refused.value.extra == {"retry_after": 18}
    assert ticket.number in refused.value.message
    assert reload(ticket).recall_count == 0
    assert not AuditEvent.objects.filter(kind=EventKind.TICKET_RECALLED).exists()
    recall = counter_recall(counter_id=c.pk, user=clerk_a, now=now + datetime.timedelta(seconds=30))
    assert recall.ticket.recall_count == 1


def test_the_cool_down_runs_from_the_last_recall(cooled, greeter, clerk_a):
    now = timezone.now()
    ticket, c = called_at_counter_1(cooled, greeter, clerk_a, now)
    first = now + datetime.timedelta(seconds=40)
    counter_recall(counter_id=c.pk, user=clerk_a, now=first)

    with pytest.raises(RecallTooSoon) as refused:
        counter_recall(counter_id=c.pk, user=clerk_a, now=first + datetime.timedelta(seconds=29.5))
    assert refused.value.extra == {"retry_after": 1}  # rounded up: never "0 s"

    counter_recall(counter_id=c.pk, user=clerk_a, now=first + datetime.timedelta(seconds=30))
    assert reload(ticket).recall_count == 2


def test_a_hall_without_a_cool_down_recalls_at_once(hall, greeter, clerk_a):
    assert hall.recall_cooldown_seconds == 0
    now = timezone.now()
    ticket, c = called_at_counter_1(hall, greeter, clerk_a, now)
    counter_recall(counter_id=c.pk, user=clerk_a, now=now)
    counter_recall(counter_id=c.pk, user=clerk_a, now=now)
    assert reload(ticket).recall_count == 2


def test_the_api_refuses_in_the_error_shape_with_retry_after(cooled, greeter, clerk_a, api):
    ticket, c = called_at_counter_1(cooled, greeter, clerk_a, timezone.now())

    response = api.as_user(clerk_a).post(f"/api/v1/counters/{c.pk}/recall/")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "recall_too_soon" and ticket.number in error["message"]
    assert 28 <= error["retry_after"] <= 30
    assert response["Retry-After"] == str(error["retry_after"])
    assert reload(ticket).recall_count == 0


def test_displays_say_which_call_it_is(hall, greeter, clerk_a):
    now = timezone.now()
    ticket, c = called_at_counter_1(hall, greeter, clerk_a, now)
    counter_recall(counter_id=c.pk, user=clerk_a, now=now)

    newest, first = recent_calls(hall=hall)[:2]
    assert (newest["recall"], newest["call_count"]) == (True, 2)
    assert (first["recall"], first["call_count"]) == (False, 1)
    (state,) = counter_states(hall_id=hall.pk, counter_ids=[c.pk])
    assert state["current"]["number"] == ticket.number
    assert state["current"]["recall_count"] == 1


def test_past_the_recall_limit_the_console_offers_no_show_first(hall, greeter, clerk_a, client):
    hall.recall_limit = 1
    hall.save(update_fields=["recall_limit"])
    ticket, c = called_at_counter_1(hall, greeter, clerk_a, timezone.now())
    client.force_login(clerk_a)
    panel_url = reverse("console-panel", args=[c.pk])

    assert "data-suggest-no-show" not in client.get(panel_url).content.decode()
    counter_recall(counter_id=c.pk, user=clerk_a)

    assert "data-suggest-no-show" in client.get(panel_url).content.decode()
