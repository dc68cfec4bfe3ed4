"""Invariant 5: a request replayed with the same Idempotency-Key has its effect once and gets the
first response back, per caller; kiosk issue and every counter action honour it."""

import json

import pytest

from counters.models import ClerkSession, Counter, Interruption
from counters.services import counter_call_next, counter_open, counter_pause, counter_start
from hall.models import AuditEvent, IdempotentRequest
from hall.services import device_register
from queueing.models import Ticket, TicketSequence
from tests.conftest import counter
from tests.factories import issue

ISSUE_URL = "/api/v1/halls/h1/tickets/"


def post_json(client, url, body=None, *, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    if body is None:
        return client.post(url, **headers)
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def action(counter_obj, name):
    return f"/api/v1/counters/{counter_obj.pk}/{name}/"


# --- issuing ---------------------------------------------------------------------------------


def test_replayed_kiosk_issue_makes_one_ticket_and_returns_the_first_response(api, hall, kiosk):
    client = api.as_device(kiosk)

    first = post_json(client, ISSUE_URL, {"business_type": "payment"}, key="tap-1")
    second = post_json(client, ISSUE_URL, {"business_type": "payment"}, key="tap-1")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert Ticket.objects.count() == 1
    assert AuditEvent.objects.count() == 1
    # The replay did not burn a number: the next ticket is A002.
    assert TicketSequence.objects.get(prefix="A").last_value == 1
    third = post_json(client, ISSUE_URL, {"business_type": "payment"}, key="tap-2")
    assert third.json()["number"] == "A002"


def test_replay_matches_a_body_with_its_keys_in_another_order(api, hall, greeter):
    client = api.as_user(greeter)
    first = client.post(
        ISSUE_URL,
        data='{"business_type": "payment", "lane": "normal"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    second = client.post(
        ISSUE_URL,
        data='{"lane": "normal", "business_type": "payment"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert Ticket.objects.count() == 1


def test_without_a_key_every_issue_is_a_new_ticket(api, hall, kiosk):
    client = api.as_device(kiosk)
    post_json(client, ISSUE_URL, {"business_type": "payment"})
    post_json(client, ISSUE_URL, {"business_type": "payment"})
    assert Ticket.objects.count() == 2


def test_the_same_key_from_another_kiosk_is_independent(api, hall, kiosk):
    second_kiosk, token = device_register(hall=hall, kind="kiosk", name="kiosk 2")
    second_kiosk.token = token

    first = post_json(api.as_device(kiosk), ISSUE_URL, {"business_type": "payment"}, key="same")
    other = post_json(
        api.as_device(second_kiosk), ISSUE_URL, {"business_type": "payment"}, key="same"
    )

    assert (first.status_code, other.status_code) == (201, 201)
    assert first.json()["number"] == "A001"
    assert other.json()["number"] == "A002"
    assert Ticket.objects.count() == 2


def test_the_same_key_from_a_greeter_and_a_kiosk_is_independent(api, hall, kiosk, greeter):
    post_json(api.as_device(kiosk), ISSUE_URL, {"business_type": "payment"}, key="same")
    other = post_json(api.as_user(greeter), ISSUE_URL, {"business_type": "topup"}, key="same")
    assert other.status_code == 201  # a different caller: not "key reused"
    assert Ticket.objects.count() == 2


def test_a_key_of_200_characters_is_accepted(api, hall, kiosk):
    response = post_json(
        api.as_device(kiosk), ISSUE_URL, {"business_type": "payment"}, key="k" * 200
    )
    assert response.status_code == 201
    assert IdempotentRequest.objects.get().key == "k" * 200


def test_a_key_over_200_characters_is_refused(api, hall, kiosk):
    response = post_json(
        api.as_device(kiosk), ISSUE_URL, {"business_type": "payment"}, key="k" * 201
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not Ticket.objects.exists()
    assert not IdempotentRequest.objects.exists()


def test_a_refused_request_stores_nothing_so_its_key_can_succeed_later(api, hall, kiosk):
    client = api.as_device(kiosk)
    refused = post_json(client, ISSUE_URL, {"business_type": "haircut"}, key="k")
    assert refused.status_code == 400
    assert not IdempotentRequest.objects.exists()
    # The kiosk corrects the body and retries with the same key: not "reused", since the first
    # attempt changed nothing.
    retried = post_json(client, ISSUE_URL, {"business_type": "payment"}, key="k")
    assert retried.status_code == 201


# --- counter actions -------------------------------------------------------------------------


def _open(hall, kiosk, clerk):
    counter_open(counter_id=counter(hall, 1).pk, user=clerk)


def _called(hall, kiosk, clerk):
    _open(hall, kiosk, clerk)
    issue(hall, "payment", device=kiosk)
    issue(hall, "payment", device=kiosk)
    counter_call_next(counter_id=counter(hall, 1).pk, user=clerk)


def _serving(hall, kiosk, clerk):
    _called(hall, kiosk, clerk)
    counter_start(counter_id=counter(hall, 1).pk, user=clerk)


def _paused(hall, kiosk, clerk):
    _open(hall, kiosk, clerk)
    counter_pause(counter_id=counter(hall, 1).pk, user=clerk, reason="break")


def _with_waiting(hall, kiosk, clerk):
    _open(hall, kiosk, clerk)
    for _ in range(3):
        issue(hall, "payment", device=kiosk)


ACTIONS = [
    # action, setup, body
    ("open", lambda *a: None, None),
    ("close", _open, None),
    ("call-next", _with_waiting, None),
    ("recall", _called, None),
    ("start", _called, None),
    ("finish", _serving, {"outcome": "completed", "note": "ok"}),
    ("no-show", _called, None),
    ("transfer", _called, {"business_type": "service"}),
    ("pause", _open, {"reason": "phone_call", "note": "hotline"}),
    ("resume", _paused, None),
]


def world_state():
    return {
        "tickets": list(
            Ticket.objects.order_by("pk").values_list(
                "id", "status", "counter_id", "window_slot", "recall_count", "transfer_count"
            )
        ),
        "counters": list(Counter.objects.order_by("pk").values_list("state", "clerk_id")),
        "interruptions": Interruption.objects.count(),
        "sessions": ClerkSession.objects.count(),
    }


@pytest.mark.parametrize("name,setup,body", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_replayed_counter_action_has_its_effect_once(api, hall, kiosk, clerk_a, name, setup, body):
    setup(hall, kiosk, clerk_a)
    c1 = counter(hall, 1)
    client = api.as_user(clerk_a)
    events_before = AuditEvent.objects.count()

    first = post_json(client, action(c1, name), body, key=f"{name}-1")
    after_first = world_state()
    second = post_json(client, action(c1, name), body, key=f"{name}-1")

    assert first.status_code == 200, first.json()
    assert second.status_code == first.status_code
    assert second.json() == first.json()
    assert AuditEvent.objects.count() == events_before + 1
    assert world_state() == after_first
    assert IdempotentRequest.objects.filter(key=f"{name}-1").count() == 1


# Without a key the same repeat is a second, different request: what the key protects from.
REPEAT_WITHOUT_KEY = {
    "close": "counter_closed",
    "call-next": "counter_busy",
    "recall": None,  # recalled a second time
    "start": "invalid_transition",
    "finish": "no_active_ticket",
    "no-show": "no_active_ticket",
    "transfer": "no_active_ticket",
    "pause": "counter_paused",
    "resume": "invalid_transition",
}


@pytest.mark.parametrize(
    "name,setup,body",
    [a for a in ACTIONS if a[0] in REPEAT_WITHOUT_KEY],
    ids=[a[0] for a in ACTIONS if a[0] in REPEAT_WITHOUT_KEY],
)
def test_the_same_repeat_without_a_key_is_a_new_request(
    api, hall, kiosk, clerk_a, name, setup, body
):
    setup(hall, kiosk, clerk_a)
    c1 = counter(hall, 1)
    client = api.as_user(clerk_a)
    first = post_json(client, action(c1, name), body)
    events_before = AuditEvent.objects.count()

    repeat = post_json(client, action(c1, name), body)

    assert first.status_code == 200
    if REPEAT_WITHOUT_KEY[name] is None:
        assert repeat.status_code == 200
        assert AuditEvent.objects.count() == events_before + 1
        assert repeat.json() != first.json()
    else:
        assert repeat.status_code == 409
        assert repeat.json()["error"]["code"] == REPEAT_WITHOUT_KEY[name]


def test_replayed_call_next_returns_the_first_window_even_after_the_ticket_moved_on(
    api, hall, kiosk, clerk_a
):
    _with_waiting(hall, kiosk, clerk_a)
    c1 = counter(hall, 1)
    client = api.as_user(clerk_a)
    first = post_json(client, action(c1, "call-next"), key="call-7")
    post_json(client, action(c1, "start"))
    post_json(client, action(c1, "finish"), {"outcome": "completed"})

    replay = post_json(client, action(c1, "call-next"), key="call-7")

    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert replay.json()["called"]["status"] == "called"  # the first answer, not today's state
    assert Ticket.objects.filter(status="called").count() == 0  # and nothing was called again


def test_a_refused_call_next_does_not_block_its_key(api, hall, kiosk, clerk_a):
    issue(hall, "payment", device=kiosk)
    c1 = counter(hall, 1)
    client = api.as_user(clerk_a)
    client.post(action(c1, "open"))
    client.post(action(c1, "pause"), data={"reason": "break"}, format="json")

    refused = post_json(client, action(c1, "call-next"), key="retry-me")
    assert refused.status_code == 409
    client.post(action(c1, "resume"))
    retried = post_json(client, action(c1, "call-next"), key="retry-me")

    assert retried.status_code == 200
    assert retried.json()["called"]["number"] == "A001"


def test_keys_of_two_clerks_do_not_collide(api, hall, kiosk, clerk_a, clerk_b):
    issue(hall, "payment", device=kiosk)
    issue(hall, "payment", device=kiosk)
    c1, c2 = counter(hall, 1), counter(hall, 2)
    counter_open(counter_id=c1.pk, user=clerk_a)
    counter_open(counter_id=c2.pk, user=clerk_b)
    hall.window_depth = 0
    hall.save()

    a = post_json(api.as_user(clerk_a), action(c1, "call-next"), key="next")
    b = post_json(api.as_user(clerk_b), action(c2, "call-next"), key="next")

    assert a.status_code == b.status_code == 200
    assert a.json()["called"]["number"] == "A001"
    assert b.json()["called"]["number"] == "A002"
    assert Ticket.objects.filter(status="called").count() == 2
