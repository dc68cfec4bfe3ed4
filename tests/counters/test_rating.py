"""Satisfaction ratings: one per finished ticket, against its counter and clerk, by the hall's
rating pad (or its staff) shortly after the finish; the pad page and its stream.

That a pad left unanswered records nothing is the browser's doing (its timeout): see
tests/e2e/test_rating_pad.py.
"""

import datetime
import json
import re
from unittest import mock

import pytest
import time_machine
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from counters.models import Rating, SatisfactionRating
from counters.satisfaction import (
    AlreadyRated,
    NotRateable,
    RatingWindowClosed,
    rating_record,
    satisfaction_by_clerk,
    satisfaction_figure,
)
from counters.services import counter_call_next, counter_finish, counter_open, counter_start
from hall.errors import Forbidden, InvalidInput, NotFound
from hall.models import AuditEvent, EventKind
from hall.services import device_register
from tests.conftest import counter
from tests.display.conftest import Streams, act, event
from tests.factories import issue

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


@pytest.fixture
def rating_pad(hall):
    device, token = device_register(hall=hall, kind="rating_pad", name="counter 1 pad")
    device.token = token
    return device


@pytest.fixture
def other_rating_pad(other_hall):
    device, token = device_register(hall=other_hall, kind="rating_pad", name="h2 pad")
    device.token = token
    return device


def served(hall, clerk, *, number: int = 1, greeter=None, phone=""):
    """A ticket issued, called, started and finished at counter ``number`` by ``clerk``."""
    c = counter(hall, number)
    if c.clerk_id != clerk.pk:
        counter_open(counter_id=c.pk, user=clerk)
    issue(hall, by=greeter or clerk, phone=phone)
    counter_call_next(counter_id=c.pk, user=clerk)
    counter_start(counter_id=c.pk, user=clerk)
    return counter_finish(counter_id=c.pk, user=clerk)


def rating_events():
    return list(AuditEvent.objects.filter(kind=EventKind.RATING_RECORDED).order_by("id"))


# --- the service ------------------------------------------------------------------------------


def test_the_rating_pad_rates_a_finished_ticket_against_its_counter_and_clerk(
    hall, clerk_a, greeter, rating_pad
):
    ticket = served(hall, clerk_a, greeter=greeter, phone="13800138000")
    record = rating_record(
        ticket_id=ticket.pk, rating=Rating.SATISFIED, reason="fast", device=rating_pad
    )
    assert (record.ticket, record.counter, record.clerk, record.hall) == (
        ticket,
        counter(hall, 1),
        clerk_a,
        hall,
    )
    assert (record.rating, record.score, record.reason) == ("satisfied", 80, "fast")
    assert record.service_date == ticket.service_date
    (recorded,) = rating_events()
    assert (recorded.ticket_id, recorded.counter_id, recorded.device) == (
        ticket.pk,
        counter(hall, 1).pk,
        rating_pad,
    )
    assert recorded.data == {
        "number": ticket.number,
        "counter": 1,
        "rating": "satisfied",
        "score": 80,
    }
    assert "13800138000" not in json.dumps(recorded.data)


def test_a_ticket_is_rated_once(hall, clerk_a, rating_pad, manager):
    ticket = served(hall, clerk_a)
    rating_record(ticket_id=ticket.pk, rating=Rating.VERY_SATISFIED, device=rating_pad)
    with pytest.raises(AlreadyRated) as refused:
        rating_record(ticket_id=ticket.pk, rating=Rating.DISSATISFIED, device=rating_pad)
    assert refused.value.status_code == 409
    with pytest.raises(AlreadyRated):
        rating_record(ticket_id=ticket.pk, rating=Rating.DISSATISFIED, user=manager)
    assert list(SatisfactionRating.objects.values_list("rating", flat=True)) == ["very_satisfied"]
    assert len(rating_events()) == 1


def test_the_unique_ticket_is_the_last_guard_when_two_ratings_race(hall, clerk_a, rating_pad):
    """Both attempts pass the check before either has written (no hall lock on SQLite): the
    second insert hits the one-to-one ticket column and is refused as already rated."""
    ticket = served(hall, clerk_a)
    rating_record(ticket_id=ticket.pk, rating=Rating.SATISFIED, device=rating_pad)
    with (
        mock.patch("counters.satisfaction._already_rated", return_value=False),
        transaction.atomic(),
    ):
        with pytest.raises(AlreadyRated):
            rating_record(ticket_id=ticket.pk, rating=Rating.DISSATISFIED, device=rating_pad)
        # The transaction is still usable after the refusal (a savepoint took the failure).
        assert SatisfactionRating.objects.count() == 1
    assert len(rating_events()) == 1


@pytest.mark.parametrize("stage", ["waiting", "called", "serving"])
def test_only_a_finished_ticket_can_be_rated(hall, clerk_a, greeter, rating_pad, stage):
    c1 = counter(hall, 1)
    ticket = issue(hall, by=greeter)
    if stage != "waiting":
        counter_open(counter_id=c1.pk, user=clerk_a)
        counter_call_next(counter_id=c1.pk, user=clerk_a)
    if stage == "serving":
        counter_start(counter_id=c1.pk, user=clerk_a)
    with pytest.raises(NotRateable) as refused:
        rating_record(ticket_id=ticket.pk, rating=Rating.SATISFIED, device=rating_pad)
    assert refused.value.code == "not_rateable"
    assert ticket.number in refused.value.message
    assert not SatisfactionRating.objects.exists() and not rating_events()


def test_a_ticket_finished_more_than_ten_minutes_ago_cannot_be_rated(hall, clerk_a, rating_pad):
    ticket = served(hall, clerk_a)
    late = ticket.finished_at + datetime.timedelta(minutes=10, seconds=1)
    with pytest.raises(RatingWindowClosed):
        rating_record(ticket_id=ticket.pk, rating=Rating.SATISFIED, device=rating_pad, now=late)
    in_time = ticket.finished_at + datetime.timedelta(minutes=9, seconds=59)
    rating_record(ticket_id=ticket.pk, rating=Rating.SATISFIED, device=rating_pad, now=in_time)
    assert SatisfactionRating.objects.get().rated_at == in_time


def test_a_rating_pad_rates_only_tickets_of_its_own_hall(
    hall, clerk_a, other_rating_pad, kiosk, display_device
):
    ticket = served(hall, clerk_a)
    with translation.override("en"), pytest.raises(Forbidden, match="another hall"):
        rating_record(ticket_id=ticket.pk, rating=Rating.SATISFIED, device=other_rating_pad)
    for device in (kiosk, display_device):  # devices of the hall, but not rating pads
        with translation.override("en"), pytest.raises(Forbidden, match="rating pad"):
            rating_record(ticket_id=ticket.pk, rating=Rating.SATISFIED, device=device)
    assert not SatisfactionRating.objects.exists()


def test_a_disabled_rating_pad_cannot_rate(hall, clerk_a, rating_pad):
    ticket = served(hall, clerk_a)
    rating_pad.active = False
    rating_pad.save()
    with pytest.raises(Forbidden):
        rating_record(ticket_id=ticket.pk, rating=Rating.SATISFIED, device=rating_pad)


def test_staff_of_the_hall_may_record_a_rating_but_not_the_clerk_who_served(
    hall, clerk_a, clerk_b, manager, outsider
):
    first = served(hall, clerk_a)
    with translation.override("en"), pytest.raises(Forbidden, match="served this ticket"):
        rating_record(ticket_id=first.pk, rating=Rating.VERY_SATISFIED, user=clerk_a)
    with pytest.raises(Forbidden):
        rating_record(ticket_id=first.pk, rating=Rating.VERY_SATISFIED, user=outsider)
    rating_record(ticket_id=first.pk, rating=Rating.SATISFIED, user=clerk_b)
    second = served(hall, clerk_a)
    rating_record(ticket_id=second.pk, rating=Rating.DISSATISFIED, user=manager)
    assert [e.actor for e in rating_events()] == [clerk_b, manager]


def test_bad_input_is_refused_and_changes_nothing(hall, clerk_a, rating_pad):
    ticket = served(hall, clerk_a)
    with pytest.raises(InvalidInput) as refused:
        rating_record(ticket_id=ticket.pk, rating="ok", device=rating_pad)
    assert "rating" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:
        rating_record(
            ticket_id=ticket.pk, rating="satisfied", reason="13800138000", device=rating_pad
        )
    assert "reason" in refused.value.fields
    with pytest.raises(NotFound):
        rating_record(ticket_id=ticket.pk + 999, rating="satisfied", device=rating_pad)
    assert not SatisfactionRating.objects.exists() and not rating_events()


# --- the satisfaction figure ------------------------------------------------------------------


def test_the_figure_is_the_mean_score_of_the_day_per_hall_and_per_clerk(
    hall, clerk_a, clerk_b, rating_pad
):
    ratings_a = [Rating.VERY_SATISFIED, Rating.SATISFIED, Rating.DISSATISFIED]
    for rating in ratings_a:
        ticket = served(hall, clerk_a, number=1)
        rating_record(ticket_id=ticket.pk, rating=rating, device=rating_pad)
    ticket = served(hall, clerk_b, number=2)
    rating_record(ticket_id=ticket.pk, rating=Rating.SATISFIED, device=rating_pad)
    served(hall, clerk_b, number=2)  # not rated: not in the figure
    today = hall.service_date()
    assert satisfaction_figure(hall=hall, service_date=today) == {
        "ratings": 4,
        "score": 65.0,  # (100 + 80 + 0 + 80) / 4
        "target": 85,
        "very_satisfied": 1,
        "satisfied": 2,
        "dissatisfied": 1,
    }
    by_clerk = satisfaction_by_clerk(hall=hall, service_date=today)
    assert (by_clerk[clerk_a.pk]["score"], by_clerk[clerk_a.pk]["ratings"]) == (60.0, 3)
    assert (by_clerk[clerk_b.pk]["score"], by_clerk[clerk_b.pk]["ratings"]) == (80.0, 1)
    yesterday = today - datetime.timedelta(days=1)
    assert satisfaction_figure(hall=hall, service_date=yesterday)["score"] is None


def test_a_ticket_rated_after_midnight_counts_in_the_day_it_was_issued(hall, clerk_a, rating_pad):
    with time_machine.travel(datetime.datetime(2026, 3, 2, 23, 55, tzinfo=SHANGHAI), tick=False):
        c1 = counter(hall, 1)
        counter_open(counter_id=c1.pk, user=clerk_a)
        ticket = issue(hall, by=clerk_a)
        counter_call_next(counter_id=c1.pk, user=clerk_a)
        counter_start(counter_id=c1.pk, user=clerk_a)
    with time_machine.travel(datetime.datetime(2026, 3, 3, 0, 4, tzinfo=SHANGHAI), tick=False):
        counter_finish(counter_id=c1.pk, user=clerk_a)
        rating_record(ticket_id=ticket.pk, rating=Rating.VERY_SATISFIED, device=rating_pad)
    assert satisfaction_figure(hall=hall, service_date=datetime.date(2026, 3, 2))["ratings"] == 1
    assert satisfaction_figure(hall=hall, service_date=datetime.date(2026, 3, 3))["ratings"] == 0


# --- the API ----------------------------------------------------------------------------------


def rating_url(ticket) -> str:
    return f"/api/v1/tickets/{ticket.pk}/rating/"


def test_the_pad_posts_a_rating_and_a_replay_with_the_same_key_records_it_once(
    hall, clerk_a, rating_pad, api
):
    ticket = served(hall, clerk_a)
    api.as_device(rating_pad)
    body = {"rating": "very_satisfied", "reason": "friendly"}
    first = api.post(rating_url(ticket), body, format="json", HTTP_IDEMPOTENCY_KEY="tap-1")
    assert first.status_code == 201, first.content
    assert first.json() | {"rated_at": None} == {
        "ticket": ticket.pk,
        "number": ticket.number,
        "counter": 1,
        "rating": "very_satisfied",
        "score": 100,
        "reason": "friendly",
        "service_date": ticket.service_date.isoformat(),
        "rated_at": None,
    }
    replay = api.post(rating_url(ticket), body, format="json", HTTP_IDEMPOTENCY_KEY="tap-1")
    assert (replay.status_code, replay.json()) == (201, first.json())
    again = api.post(rating_url(ticket), {"rating": "satisfied"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_rated"
    assert SatisfactionRating.objects.count() == 1


def test_the_api_refuses_other_devices_bad_input_and_strangers_with_the_error_shape(
    hall, clerk_a, rating_pad, other_rating_pad, kiosk, api
):
    ticket = served(hall, clerk_a)
    cases = [
        (other_rating_pad, {"rating": "satisfied"}, 403, "forbidden"),
        (kiosk, {"rating": "satisfied"}, 403, "forbidden"),
        (rating_pad, {"rating": "great"}, 400, "invalid"),
        (rating_pad, {"rating": "satisfied", "reason": "x" * 300}, 400, "invalid"),
    ]
    for device, body, status, code in cases:
        response = api.as_device(device).post(rating_url(ticket), body, format="json")
        assert response.status_code == status, response.content
        assert response.json()["error"]["code"] == code
    api.credentials()
    anonymous = api.post(rating_url(ticket), {"rating": "satisfied"}, format="json")
    assert anonymous.status_code == 401
    missing = api.as_device(rating_pad).post(
        "/api/v1/tickets/999999/rating/", {"rating": "satisfied"}, format="json"
    )
    assert missing.status_code == 404
    assert not SatisfactionRating.objects.exists()


def test_a_manager_rates_through_the_api_with_a_session(hall, clerk_a, manager, client):
    ticket = served(hall, clerk_a)
    client.force_login(manager)
    response = client.post(
        rating_url(ticket),
        {"rating": "dissatisfied", "reason": "long_wait"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert SatisfactionRating.objects.get().reason == "long_wait"


# --- the pad page -----------------------------------------------------------------------------


def pad_config(response) -> dict:
    found = re.search(
        r'<script id="pad-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(found.group(1))


def test_the_pad_page_opens_with_its_token_and_asks_in_both_languages(hall, rating_pad, client):
    c1 = counter(hall, 1)
    response = client.get(f"/rate/{c1.pk}/?token={rating_pad.token}")
    assert response.status_code == 200
    page = response.content.decode()
    for english in ("Very satisfied", "Satisfied", "Dissatisfied", "How was our service today?"):
        assert (
            english in page
        )  # under the Chinese (非常满意 / 满意 / 不满意), whatever the browser's
        with translation.override("zh-hans"):
            assert gettext(english) in page
    assert 'lang="zh-Hans"' in page
    config = pad_config(response)
    assert config["ws"] == f"/ws/counters/{c1.pk}/display/"
    assert config["token"] == rating_pad.token
    assert config["rating_url"] == "/api/v1/tickets/{id}/rating/"
    assert (config["question_s"], config["reason_s"]) == (30, 15)


def test_idle_overrides_the_pads_waits_within_bounds(hall, rating_pad, client):
    c1 = counter(hall, 1)
    base = f"/rate/{c1.pk}/?token={rating_pad.token}"
    assert pad_config(client.get(base + "&idle=5"))["question_s"] == 5
    assert pad_config(client.get(base + "&idle=1"))["question_s"] == 3
    assert pad_config(client.get(base + "&idle=soon"))["question_s"] == 30


def test_the_pad_page_refuses_other_devices_strangers_and_unknown_counters(
    hall, other_rating_pad, kiosk, display_device, outsider, manager, client
):
    c1 = counter(hall, 1)
    for token in (other_rating_pad.token, kiosk.token, display_device.token, "nonsense"):
        assert client.get(f"/rate/{c1.pk}/?token={token}").status_code == 403
    assert client.get(f"/rate/{c1.pk}/").status_code == 403  # nobody signed in
    client.force_login(outsider)
    assert client.get(f"/rate/{c1.pk}/").status_code == 403
    client.force_login(manager)
    assert client.get(f"/rate/{c1.pk}/").status_code == 200
    assert client.get("/rate/999999/").status_code == 404


# --- the counter's stream ---------------------------------------------------------------------


@pytest.fixture
async def streams(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    opened = Streams()
    yield opened
    await opened.close_all()


@pytest.mark.django_db(transaction=True)
async def test_the_pad_hears_its_counters_finish_and_rating_but_not_the_lobby_stream(
    hall, clerk_a, rating_pad, streams
):
    c1 = await act(counter, hall, 1)
    pad = await streams.counter(c1, rating_pad)
    assert pad.snapshot["counter"]["id"] == c1.pk
    ticket = await act(served, hall, clerk_a)
    while (frame := await event(pad))["type"] != "ticket.done":
        pass
    assert (frame["ticket"]["id"], frame["counter"]["id"]) == (ticket.pk, c1.pk)
    await act(rating_record, ticket_id=ticket.pk, rating="satisfied", device=rating_pad)
    rated = await event(pad)
    assert rated["type"] == "rating.recorded"
    assert rated["ticket"]["number"] == ticket.number
    assert rated["prev_seq"] == frame["seq"]

    lobby = await streams.connect("/ws/halls/h1/display/", token=rating_pad.token)
    error = json.loads(await lobby.receive_from(2))
    assert error["type"] == "error"
    assert (await lobby.receive_output(1))["code"] == 4403
