"""Bad input to every endpoint: the right 4xx, DESIGN.md's error shape, and nothing changed.

One table of cases. Each case builds a small state through the services, snapshots the
database, sends one bad request, and checks the answer and that the snapshot is unchanged.
A last, fuzz-ish pass throws random JSON at every endpoint and only asks for "never a 500".
"""

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from counters.models import ClerkSession, Counter, Interruption
from counters.services import counter_call_next, counter_open, counter_pause, counter_start
from hall.models import AuditEvent, BusinessType, IdempotentRequest
from queueing.models import Ticket, TicketSequence
from tests.conftest import counter
from tests.factories import issue

COUNTER_ACTIONS = (
    "open",
    "close",
    "call-next",
    "recall",
    "start",
    "finish",
    "no-show",
    "transfer",
    "pause",
    "resume",
)
MALFORMED = object()  # sentinel body: send broken JSON


class World:
    """Everyone the cases need, in one place; built fresh for every case."""

    def __init__(self, *, api, hall, other_hall, people, devices):
        self.api, self.hall, self.other_hall = api, hall, other_hall
        self.people, self.devices = people, devices
        self.c1, self.c2, self.c3, self.c4 = (counter(hall, n) for n in (1, 2, 3, 4))
        self.h2c1 = counter(other_hall, 1)
        self.ticket: Ticket | None = None

    def issue(self, code="payment"):
        return issue(self.hall, code, device=self.devices["kiosk"])

    def url(self, counter_obj, name):
        return f"/api/v1/counters/{counter_obj.pk}/{name}/"


@pytest.fixture
def world(
    api,
    hall,
    other_hall,
    greeter,
    clerk_a,
    clerk_b,
    manager,
    outsider,
    kiosk,
    display_device,
    other_kiosk,
):
    people = {
        "greeter": greeter,
        "clerk_a": clerk_a,
        "clerk_b": clerk_b,
        "manager": manager,
        "outsider": outsider,
    }
    devices = {"kiosk": kiosk, "display": display_device, "other_kiosk": other_kiosk}
    return World(api=api, hall=hall, other_hall=other_hall, people=people, devices=devices)


# --- setups: small states built through the services --------------------------------------


def a_opens_c1(w):
    counter_open(counter_id=w.c1.pk, user=w.people["clerk_a"])


def c1_called(w):
    a_opens_c1(w)
    w.ticket = w.issue("payment")
    counter_call_next(counter_id=w.c1.pk, user=w.people["clerk_a"])


def c1_serving(w):
    c1_called(w)
    counter_start(counter_id=w.c1.pk, user=w.people["clerk_a"])


def c1_paused(w):
    a_opens_c1(w)
    counter_pause(counter_id=w.c1.pk, user=w.people["clerk_a"], reason="break")


def b_opens_c2(w):
    counter_open(counter_id=w.c2.pk, user=w.people["clerk_b"])


def c1_called_and_c4_open(w):
    c1_called(w)
    counter_open(counter_id=w.c4.pk, user=w.people["clerk_b"])


def c1_called_and_c2_open(w):
    c1_called(w)
    b_opens_c2(w)


def a_ticket_waits(w):
    w.ticket = w.issue("payment")


def an_inactive_type(w):
    BusinessType.objects.create(
        hall=w.hall, code="retired", prefix="Z", name_zh="停办", name_en="Retired", active=False
    )


def a_type_nobody_serves(w):
    BusinessType.objects.create(
        hall=w.hall, code="orphan", prefix="Y", name_zh="无人", name_en="Orphan"
    )


def the_kiosk_is_disabled(w):
    w.devices["kiosk"].active = False
    w.devices["kiosk"].save(update_fields=["active"])


def kiosk_issued_with_key(w):
    w.api.as_device(w.devices["kiosk"]).post(
        "/api/v1/halls/h1/tickets/",
        {"business_type": "payment"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )


def a_opened_c1_with_key(w):
    response = w.api.as_user(w.people["clerk_a"]).post(
        w.url(w.c1, "open"), HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert response.status_code == 200


# --- the table ------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    actor: str  # a person, a device ("kiosk", "display", "other_kiosk"), "anon", or "bad_device"
    method: str
    url: Callable[[World], str]
    status: int
    code: str
    body: Any = None
    setup: Callable[[World], None] | None = None
    headers: dict = field(default_factory=dict)
    content_type: str | None = None
    fields: tuple = ()  # keys that must appear in error.fields

    def __str__(self) -> str:
        return self.name


def c1(name):
    return lambda w: w.url(w.c1, name)


def c2(name):
    return lambda w: w.url(w.c2, name)


def issue_url(code="h1"):
    return lambda w: f"/api/v1/halls/{code}/tickets/"


def ticket_url(w):
    return f"/api/v1/tickets/{w.ticket.pk}/"


TOKEN = "/api/v1/auth/token/"
BT = lambda w: "/api/v1/halls/h1/business-types/"  # noqa: E731
COUNTERS = lambda w: "/api/v1/halls/h1/counters/"  # noqa: E731
PAYMENT = {"business_type": "payment"}

# fmt: off
CASES = [
    # POST /api/v1/auth/token/
    Case("token: missing password", "anon", "post", lambda w: TOKEN, 400, "invalid",
         body={"username": "clerk_a"}, fields=("password",)),
    Case("token: missing everything", "anon", "post", lambda w: TOKEN, 400, "invalid",
         body={}, fields=("username", "password")),
    Case("token: username is a list", "anon", "post", lambda w: TOKEN, 400, "invalid",
         body={"username": ["clerk_a"], "password": "pw"}, fields=("username",)),
    Case("token: wrong password", "anon", "post", lambda w: TOKEN, 400, "invalid",
         body={"username": "clerk_a", "password": "wrong"}),
    Case("token: body is a list", "anon", "post", lambda w: TOKEN, 400, "invalid", body=[1]),
    Case("token: malformed json", "anon", "post", lambda w: TOKEN, 400, "malformed_request",
         body=MALFORMED),
    Case("token: GET not allowed", "anon", "get", lambda w: TOKEN, 405, "method_not_allowed"),
    # GET /api/v1/halls/{hall}/business-types/
    Case("business-types: unknown hall", "clerk_a", "get",
         lambda w: "/api/v1/halls/nope/business-types/", 404, "not_found"),
    Case("business-types: unauthenticated", "anon", "get", BT, 401, "not_authenticated"),
    Case("business-types: bogus device token", "bad_device", "get", BT, 401,
         "authentication_failed"),
    Case("business-types: device of another hall", "other_kiosk", "get", BT, 403, "forbidden"),
    Case("business-types: staff of another hall", "outsider", "get", BT, 403, "forbidden"),
    Case("business-types: POST not allowed", "clerk_a", "post", BT, 405, "method_not_allowed",
         body={}),
    # GET /api/v1/halls/{hall}/counters/
    Case("counters: unknown hall", "clerk_a", "get", lambda w: "/api/v1/halls/nope/counters/",
         404, "not_found"),
    Case("counters: unauthenticated", "anon", "get", COUNTERS, 401, "not_authenticated"),
    Case("counters: device of another hall", "other_kiosk", "get", COUNTERS, 403, "forbidden"),
    Case("counters: staff of another hall", "outsider", "get", COUNTERS, 403, "forbidden"),
    # POST /api/v1/halls/{hall}/tickets/
    Case("issue: missing business_type", "kiosk", "post", issue_url(), 400, "invalid",
         body={}, fields=("business_type",)),
    Case("issue: business_type is a number", "kiosk", "post", issue_url(), 400,
         "business_type_unavailable", body={"business_type": 123}, fields=("business_type",)),
    Case("issue: business_type is a list", "kiosk", "post", issue_url(), 400, "invalid",
         body={"business_type": []}, fields=("business_type",)),
    Case("issue: business_type is an object", "kiosk", "post", issue_url(), 400, "invalid",
         body={"business_type": {"code": "payment"}}, fields=("business_type",)),
    Case("issue: business_type is null", "kiosk", "post", issue_url(), 400, "invalid",
         body={"business_type": None}, fields=("business_type",)),
    Case("issue: unknown business_type", "kiosk", "post", issue_url(), 400,
         "business_type_unavailable", body={"business_type": "haircut"}),
    Case("issue: inactive business_type", "kiosk", "post", issue_url(), 400,
         "business_type_unavailable", body={"business_type": "retired"}, setup=an_inactive_type),
    Case("issue: business_type no counter serves", "kiosk", "post", issue_url(), 400,
         "business_type_unavailable", body={"business_type": "orphan"},
         setup=a_type_nobody_serves),
    Case("issue: unknown lane", "kiosk", "post", issue_url(), 400, "invalid",
         body={**PAYMENT, "lane": "fast"}, fields=("lane",)),
    Case("issue: unknown priority_reason", "kiosk", "post", issue_url(), 400, "invalid",
         body={**PAYMENT, "priority_reason": "nap"}, fields=("priority_reason",)),
    Case("issue: normal lane with a reason", "greeter", "post", issue_url(), 400, "invalid",
         body={**PAYMENT, "lane": "normal", "priority_reason": "elderly"},
         fields=("priority_reason",)),
    Case("issue: priority lane without a reason", "greeter", "post", issue_url(), 400,
         "invalid", body={**PAYMENT, "lane": "priority"}, fields=("priority_reason",)),
    Case("issue: vip lane with another reason", "greeter", "post", issue_url(), 400, "invalid",
         body={**PAYMENT, "lane": "vip", "priority_reason": "elderly"},
         fields=("priority_reason",)),
    Case("issue: kiosk vip without account", "kiosk", "post", issue_url(), 400, "invalid",
         body={**PAYMENT, "lane": "vip"}, fields=("vip_account",)),
    Case("issue: kiosk self-declares pregnant", "kiosk", "post", issue_url(), 400, "invalid",
         body={**PAYMENT, "priority_reason": "pregnant"}, fields=("priority_reason",)),
    Case("issue: kiosk self-declares military", "kiosk", "post", issue_url(), 400, "invalid",
         body={**PAYMENT, "lane": "priority", "priority_reason": "military"},
         fields=("priority_reason",)),
    Case("issue: phone is not a number", "kiosk", "post", issue_url(), 400, "invalid",
         body={**PAYMENT, "phone": "call me"}, fields=("phone",)),
    Case("issue: phone is a number type", "kiosk", "post", issue_url(), 400, "invalid",
         body={**PAYMENT, "phone": [13812345678]}, fields=("phone",)),
    Case("issue: override_hours is not a boolean", "manager", "post", issue_url(), 400,
         "invalid", body={**PAYMENT, "override_hours": "maybe"}, fields=("override_hours",)),
    Case("issue: kiosk asks to override hours", "kiosk", "post", issue_url(), 403, "forbidden",
         body={**PAYMENT, "override_hours": True}),
    Case("issue: body is a list", "kiosk", "post", issue_url(), 400, "invalid", body=[PAYMENT]),
    Case("issue: body is a string", "kiosk", "post", issue_url(), 400, "invalid",
         body="payment"),
    Case("issue: malformed json", "kiosk", "post", issue_url(), 400, "malformed_request",
         body=MALFORMED),
    Case("issue: form-encoded body", "kiosk", "post", issue_url(), 415,
         "unsupported_media_type", body="business_type=payment",
         content_type="application/x-www-form-urlencoded"),
    Case("issue: unknown hall", "kiosk", "post", issue_url("nope"), 404, "not_found",
         body=PAYMENT),
    Case("issue: kiosk of h1 at hall h2", "kiosk", "post", issue_url("h2"), 403, "forbidden",
         body=PAYMENT),
    Case("issue: display device", "display", "post", issue_url(), 403, "forbidden",
         body=PAYMENT),
    Case("issue: staff of another hall", "outsider", "post", issue_url(), 403, "forbidden",
         body=PAYMENT),
    Case("issue: unauthenticated", "anon", "post", issue_url(), 401, "not_authenticated",
         body=PAYMENT),
    Case("issue: bogus device token", "bad_device", "post", issue_url(), 401,
         "authentication_failed", body=PAYMENT),
    Case("issue: disabled kiosk", "kiosk", "post", issue_url(), 401, "authentication_failed",
         body=PAYMENT, setup=the_kiosk_is_disabled),
    Case("issue: idempotency key reused with another body", "kiosk", "post", issue_url(), 422,
         "idempotency_key_reused", body={"business_type": "topup"},
         headers={"HTTP_IDEMPOTENCY_KEY": "k-1"}, setup=kiosk_issued_with_key),
    Case("issue: idempotency key too long", "kiosk", "post", issue_url(), 400, "invalid",
         body=PAYMENT, headers={"HTTP_IDEMPOTENCY_KEY": "k" * 201}),
    Case("issue: blank idempotency key", "kiosk", "post", issue_url(), 400, "invalid",
         body=PAYMENT, headers={"HTTP_IDEMPOTENCY_KEY": "   "}),
    # GET /api/v1/tickets/{id}/
    Case("ticket: unknown id", "clerk_a", "get", lambda w: "/api/v1/tickets/999999/", 404,
         "not_found"),
    Case("ticket: kiosk may not read", "kiosk", "get", ticket_url, 403, "forbidden",
         setup=a_ticket_waits),
    Case("ticket: display may not read", "display", "get", ticket_url, 403, "forbidden",
         setup=a_ticket_waits),
    Case("ticket: staff of another hall", "outsider", "get", ticket_url, 403, "forbidden",
         setup=a_ticket_waits),
    Case("ticket: unauthenticated", "anon", "get", ticket_url, 401, "not_authenticated",
         setup=a_ticket_waits),
    Case("ticket: id is not a number", "clerk_a", "get", lambda w: "/api/v1/tickets/abc/", 404,
         "not_found"),
    # POST /api/v1/tickets/{id}/cancel/
    Case("cancel: unknown id", "greeter", "post", lambda w: "/api/v1/tickets/999999/cancel/",
         404, "not_found", body={}),
    Case("cancel: a called ticket", "greeter", "post",
         lambda w: f"/api/v1/tickets/{w.ticket.pk}/cancel/", 409, "invalid_transition",
         body={}, setup=c1_called),
    Case("cancel: reason is a list", "greeter", "post",
         lambda w: f"/api/v1/tickets/{w.ticket.pk}/cancel/", 400, "invalid",
         body={"reason": ["left"]}, setup=a_ticket_waits, fields=("reason",)),
    Case("cancel: staff of another hall", "outsider", "post",
         lambda w: f"/api/v1/tickets/{w.ticket.pk}/cancel/", 403, "forbidden", body={},
         setup=a_ticket_waits),
    Case("cancel: kiosk", "kiosk", "post", lambda w: f"/api/v1/tickets/{w.ticket.pk}/cancel/",
         403, "forbidden", body={}, setup=a_ticket_waits),
    # GET /api/v1/t/{public_token}/
    Case("public ticket: unknown token", "anon", "get", lambda w: "/api/v1/t/nope/", 404,
         "not_found"),
    Case("public ticket: POST not allowed", "anon", "post", lambda w: "/api/v1/t/nope/", 405,
         "method_not_allowed", body={}),
    # unknown API URLs
    Case("unknown api url", "clerk_a", "get", lambda w: "/api/v1/nope/", 404, "not_found"),
    Case("counter id is not a number", "manager", "post",
         lambda w: "/api/v1/counters/abc/open/", 404, "not_found"),
    # counter actions: state-specific
    Case("open: clerk already at another counter", "clerk_a", "post", c2("open"), 409,
         "clerk_at_another_counter", setup=a_opens_c1),
    Case("open: counter taken by another clerk", "clerk_a", "post", c2("open"), 409,
         "counter_taken", setup=b_opens_c2),
    Case("close: while a ticket is called", "clerk_a", "post", c1("close"), 409, "counter_busy",
         setup=c1_called),
    Case("close: while serving", "clerk_a", "post", c1("close"), 409, "counter_busy",
         setup=c1_serving),
    Case("close: a closed counter by its would-be clerk", "clerk_a", "post", c1("close"), 409,
         "counter_closed"),
    Case("call-next: while busy", "clerk_a", "post", c1("call-next"), 409, "counter_busy",
         setup=c1_called),
    Case("call-next: while serving", "clerk_a", "post", c1("call-next"), 409, "counter_busy",
         setup=c1_serving),
    Case("call-next: on a paused counter", "clerk_a", "post", c1("call-next"), 409,
         "counter_paused", setup=c1_paused),
    Case("call-next: on a closed counter (clerk)", "clerk_a", "post", c1("call-next"), 409,
         "counter_closed", setup=a_ticket_waits),
    Case("call-next: on a closed counter (manager)", "manager", "post", c1("call-next"), 409,
         "counter_closed", setup=a_ticket_waits),
    Case("call-next: idempotency key reused from open", "clerk_a", "post", c1("call-next"), 422,
         "idempotency_key_reused", headers={"HTTP_IDEMPOTENCY_KEY": "k-1"},
         setup=a_opened_c1_with_key),
    Case("call-next: idempotency key too long", "clerk_a", "post", c1("call-next"), 400,
         "invalid", headers={"HTTP_IDEMPOTENCY_KEY": "x" * 201}, setup=a_opens_c1),
    Case("call-next: malformed json", "clerk_a", "post", c1("call-next"), 400,
         "malformed_request", body=MALFORMED, setup=a_opens_c1),
    Case("call-next: malformed json from another hall's staff", "outsider", "post",
         c1("call-next"), 403, "forbidden", body=MALFORMED, setup=a_opens_c1),
    Case("call-next: malformed json to no such counter", "clerk_a", "post",
         lambda w: "/api/v1/counters/999999/call-next/", 404, "not_found", body=MALFORMED),
    Case("call-next: GET not allowed", "clerk_a", "get", c1("call-next"), 405,
         "method_not_allowed", setup=a_opens_c1),
    Case("recall: nothing called", "clerk_a", "post", c1("recall"), 409, "no_active_ticket",
         setup=a_opens_c1),
    Case("recall: while serving", "clerk_a", "post", c1("recall"), 409, "invalid_transition",
         setup=c1_serving),
    Case("recall: malformed json", "clerk_a", "post", c1("recall"), 400, "malformed_request",
         body=MALFORMED, setup=c1_called),
    Case("start: before any call", "clerk_a", "post", c1("start"), 409, "no_active_ticket",
         setup=a_opens_c1),
    Case("start: when already serving", "clerk_a", "post", c1("start"), 409,
         "invalid_transition", setup=c1_serving),
    Case("start: malformed json", "clerk_a", "post", c1("start"), 400, "malformed_request",
         body=MALFORMED, setup=c1_called),
    Case("finish: before any call", "clerk_a", "post", c1("finish"), 409, "no_active_ticket",
         body={"outcome": "completed"}, setup=a_opens_c1),
    Case("finish: before start", "clerk_a", "post", c1("finish"), 409, "invalid_transition",
         body={"outcome": "completed"}, setup=c1_called),
    Case("finish: unknown outcome", "clerk_a", "post", c1("finish"), 400, "invalid",
         body={"outcome": "great"}, setup=c1_serving, fields=("outcome",)),
    Case("finish: outcome is a number", "clerk_a", "post", c1("finish"), 400, "invalid",
         body={"outcome": 1}, setup=c1_serving, fields=("outcome",)),
    Case("finish: note is a list", "clerk_a", "post", c1("finish"), 400, "invalid",
         body={"outcome": "completed", "note": ["x"]}, setup=c1_serving, fields=("note",)),
    Case("finish: note too long", "clerk_a", "post", c1("finish"), 400, "invalid",
         body={"outcome": "completed", "note": "x" * 501}, setup=c1_serving, fields=("note",)),
    Case("finish: malformed json", "clerk_a", "post", c1("finish"), 400, "malformed_request",
         body=MALFORMED, setup=c1_serving),
    Case("no-show: when serving", "clerk_a", "post", c1("no-show"), 409, "invalid_transition",
         setup=c1_serving),
    Case("no-show: nothing called", "clerk_a", "post", c1("no-show"), 409, "no_active_ticket",
         setup=a_opens_c1),
    Case("transfer: neither type nor counter", "clerk_a", "post", c1("transfer"), 400,
         "invalid", body={}, setup=c1_called, fields=("business_type",)),
    Case("transfer: counter is not a number", "clerk_a", "post", c1("transfer"), 400, "invalid",
         body={"counter": "abc"}, setup=c1_called, fields=("counter",)),
    Case("transfer: counter is a list", "clerk_a", "post", c1("transfer"), 400, "invalid",
         body={"counter": [2]}, setup=c1_called, fields=("counter",)),
    Case("transfer: counter zero", "clerk_a", "post", c1("transfer"), 400, "invalid",
         body={"counter": 0}, setup=c1_called, fields=("counter",)),
    Case("transfer: business_type is a list", "clerk_a", "post", c1("transfer"), 400,
         "invalid", body={"business_type": []}, setup=c1_called, fields=("business_type",)),
    Case("transfer: business_type is a number", "clerk_a", "post", c1("transfer"), 400,
         "transfer_refused", body={"business_type": 123}, setup=c1_called,
         fields=("business_type",)),
    Case("transfer: unknown business type", "clerk_a", "post", c1("transfer"), 400,
         "transfer_refused", body={"business_type": "haircut"}, setup=c1_called,
         fields=("business_type",)),
    Case("transfer: to the same business type", "clerk_a", "post", c1("transfer"), 400,
         "transfer_refused", body={"business_type": "payment"}, setup=c1_called,
         fields=("business_type",)),
    Case("transfer: to a counter that cannot serve the type", "clerk_a", "post",
         c1("transfer"), 400, "transfer_refused", body={"counter": "c4"},
         setup=c1_called_and_c4_open, fields=("counter",)),
    Case("transfer: to a counter of another hall", "clerk_a", "post", c1("transfer"), 400,
         "transfer_refused", body={"counter": "h2c1"}, setup=c1_called, fields=("counter",)),
    Case("transfer: to a closed counter", "clerk_a", "post", c1("transfer"), 400,
         "transfer_refused", body={"counter": "c2"}, setup=c1_called, fields=("counter",)),
    Case("transfer: to its own counter", "clerk_a", "post", c1("transfer"), 400,
         "transfer_refused", body={"counter": "c1"}, setup=c1_called, fields=("counter",)),
    Case("transfer: to a counter of unknown id", "clerk_a", "post", c1("transfer"), 400,
         "transfer_refused", body={"counter": 999999}, setup=c1_called, fields=("counter",)),
    Case("transfer: nothing called", "clerk_a", "post", c1("transfer"), 409,
         "no_active_ticket", body={"counter": "c2"}, setup=lambda w: (a_opens_c1(w),
                                                                      b_opens_c2(w))),
    Case("transfer: malformed json", "clerk_a", "post", c1("transfer"), 400,
         "malformed_request", body=MALFORMED, setup=c1_called_and_c2_open),
    Case("pause: missing reason", "clerk_a", "post", c1("pause"), 400, "invalid", body={},
         setup=a_opens_c1, fields=("reason",)),
    Case("pause: unknown reason", "clerk_a", "post", c1("pause"), 400, "invalid",
         body={"reason": "nap"}, setup=a_opens_c1, fields=("reason",)),
    Case("pause: reason is a number", "clerk_a", "post", c1("pause"), 400, "invalid",
         body={"reason": 5}, setup=a_opens_c1, fields=("reason",)),
    Case("pause: note too long", "clerk_a", "post", c1("pause"), 400, "invalid",
         body={"reason": "break", "note": "x" * 201}, setup=a_opens_c1, fields=("note",)),
    Case("pause: when paused", "clerk_a", "post", c1("pause"), 409, "counter_paused",
         body={"reason": "break"}, setup=c1_paused),
    Case("pause: a closed counter (manager)", "manager", "post", c1("pause"), 409,
         "counter_closed", body={"reason": "break"}),
    Case("pause: malformed json", "clerk_a", "post", c1("pause"), 400, "malformed_request",
         body=MALFORMED, setup=a_opens_c1),
    Case("resume: when open", "clerk_a", "post", c1("resume"), 409, "invalid_transition",
         setup=a_opens_c1),
    Case("resume: a closed counter (manager)", "manager", "post", c1("resume"), 409,
         "invalid_transition"),
]

# Counter actions: the same refusals for all ten, each with a body that would be valid, so
# that the refusal cannot come from the body.
VALID_BODIES = {
    "finish": {"outcome": "completed"},
    "transfer": {"business_type": "service"},
    "pause": {"reason": "break"},
}
for _action in COUNTER_ACTIONS:
    _body = VALID_BODIES.get(_action)
    CASES += [
        Case(f"{_action}: unknown counter", "manager", "post",
             lambda w, a=_action: f"/api/v1/counters/999999/{a}/", 404, "not_found",
             setup=c1_called, body=_body),
        Case(f"{_action}: unauthenticated", "anon", "post", c1(_action), 401,
             "not_authenticated", setup=c1_called, body=_body),
        Case(f"{_action}: kiosk device", "kiosk", "post", c1(_action), 403, "forbidden",
             setup=c1_called, body=_body),
        Case(f"{_action}: display device", "display", "post", c1(_action), 403, "forbidden",
             setup=c1_called, body=_body),
        Case(f"{_action}: manager of another hall", "outsider", "post", c1(_action), 403,
             "forbidden", setup=c1_called, body=_body),
        Case(f"{_action}: greeter", "greeter", "post", c1(_action), 403, "forbidden",
             setup=c1_called, body=_body),
        Case(f"{_action}: clerk_a at clerk_b's counter", "clerk_a", "post", c2(_action),
             409 if _action == "open" else 403,
             "counter_taken" if _action == "open" else "forbidden",
             setup=lambda w: (b_opens_c2(w), a_ticket_waits(w)), body=_body),
    ]
# fmt: on


# --- the checks ------------------------------------------------------------------------------


def snapshot() -> dict:
    """Everything a bad request must leave alone."""
    return {
        "tickets": list(
            Ticket.objects.order_by("pk").values_list(
                "id",
                "number",
                "status",
                "counter_id",
                "window_slot",
                "window_counter_id",
                "business_type_id",
                "pinned_counter_id",
                "recall_count",
                "transfer_count",
                "lane",
                "outcome",
            )
        ),
        "counters": list(Counter.objects.order_by("pk").values_list("id", "state", "clerk_id")),
        "audit_events": AuditEvent.objects.count(),
        "interruptions": list(
            Interruption.objects.order_by("pk").values_list("id", "ended_at", "reason")
        ),
        "clerk_sessions": list(ClerkSession.objects.order_by("pk").values_list("id", "ended_at")),
        "sequences": list(
            TicketSequence.objects.order_by("pk").values_list(
                "prefix", "service_date", "last_value"
            )
        ),
        "idempotent_requests": IdempotentRequest.objects.count(),
        "tokens": Token.objects.count(),
    }


def client_for(w: World, actor: str):
    api = w.api
    if actor == "anon":
        api.force_authenticate(user=None)
        api.credentials()
    elif actor == "bad_device":
        api.force_authenticate(user=None)
        api.credentials(HTTP_AUTHORIZATION="Device not-a-real-token")
    elif actor in w.devices:
        api.as_device(w.devices[actor])
    else:
        api.as_user(w.people[actor])
    return api


def resolve_body(w: World, body):
    """Counter references in a body are written by name ("c4", "h2c1") and become ids."""
    if isinstance(body, dict) and isinstance(body.get("counter"), str):
        target = getattr(w, body["counter"], None)
        if target is not None:
            return {**body, "counter": target.pk}
    return body


def send(w: World, case: Case):
    client = client_for(w, case.actor)
    url = case.url(w)
    if case.method == "get":
        return client.get(url, **case.headers)
    if case.body is MALFORMED:
        return client.post(
            url,
            data='{"business_type": "payment",',
            content_type="application/json",
            **case.headers,
        )
    if case.content_type is not None:
        return client.post(url, data=case.body, content_type=case.content_type, **case.headers)
    if case.body is None:
        return client.post(url, **case.headers)
    return client.post(
        url,
        data=json.dumps(resolve_body(w, case.body)),
        content_type="application/json",
        **case.headers,
    )


def assert_error_shape(response, code: str) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["fields"], dict), error
    assert error["code"] == code, error
    return error


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_request_is_refused_with_the_error_shape_and_changes_nothing(world, case):
    if case.setup is not None:
        case.setup(world)
    before = snapshot()

    response = send(world, case)

    assert response.status_code == case.status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    error = assert_error_shape(response, case.code)
    for name in case.fields:
        assert name in error["fields"], error
    assert snapshot() == before


def test_the_table_covers_every_endpoint():
    names = {c.name.split(":")[0] for c in CASES}
    expected = {
        "token",
        "business-types",
        "counters",
        "issue",
        "ticket",
        "cancel",
        "public ticket",
        *COUNTER_ACTIONS,
    }
    assert expected <= names


# --- never a 500 -----------------------------------------------------------------------------


def random_value(rng: random.Random, depth: int = 0):
    choices = [
        lambda: None,
        lambda: rng.choice([True, False]),
        lambda: rng.randint(-(2**70), 2**70),
        lambda: rng.choice([0, 1, -1, 2**31, 2**63, 2**64, 10**30, 999999]),
        lambda: rng.uniform(-1e6, 1e6),
        lambda: rng.choice([1.0, 1.5, -0.0, 1e308]),
        lambda: "".join(
            rng.choice("aZ09 _-\x00\u00e9\u4e2d\U0001f600'\"\\/<>{}")
            for _ in range(rng.randint(0, 40))
        ),
        lambda: "x" * rng.choice([0, 31, 32, 33, 200, 201, 10_000]),
        lambda: rng.choice(
            [
                "payment",
                "service",
                "vip",
                "elderly",
                "pregnant",
                "completed",
                "break",
                "1",
                "",
                "true",
                "null",
                "h1",
                "2",
            ]
        ),
    ]
    if depth < 2:
        choices += [
            lambda: [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))],
            lambda: {
                rng.choice(["a", "business_type", "counter", ""]): random_value(rng, depth + 1)
                for _ in range(rng.randint(0, 3))
            },
        ]
    return rng.choice(choices)()


FUZZ_ENDPOINTS = {
    "token": (lambda w: TOKEN, "anon", ("username", "password")),
    "issue": (
        issue_url(),
        "kiosk",
        ("business_type", "lane", "priority_reason", "phone", "vip_account", "override_hours"),
    ),
    "issue by manager": (
        issue_url(),
        "manager",
        ("business_type", "lane", "priority_reason", "phone", "vip_account", "override_hours"),
    ),
    "cancel": (lambda w: f"/api/v1/tickets/{w.ticket.pk}/cancel/", "greeter", ("reason",)),
    **{
        a: (c1(a), "manager", ("outcome", "note", "business_type", "counter", "reason"))
        for a in COUNTER_ACTIONS
    },
}


@pytest.mark.parametrize("endpoint", sorted(FUZZ_ENDPOINTS))
def test_random_json_never_causes_a_server_error(world, endpoint):
    url_for, actor, keys = FUZZ_ENDPOINTS[endpoint]
    rng = random.Random(f"hallq-{endpoint}")
    c1_called(world)
    b_opens_c2(world)
    world.ticket = world.issue("topup")  # a waiting one, for cancel
    for _ in range(30):
        roll = rng.random()
        if roll < 0.3:
            body = random_value(rng)
        elif roll < 0.9:
            body = {k: random_value(rng) for k in keys if rng.random() < 0.7}
        else:
            body = None
        headers = {}
        if rng.random() < 0.2:
            headers["HTTP_IDEMPOTENCY_KEY"] = rng.choice(["k", "k" * 200, "k" * 201, " ", "ü"])
        client = client_for(world, actor)
        if body is None:
            raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 20)))
            response = client.post(
                url_for(world), data=raw, content_type="application/json", **headers
            )
        else:
            response = client.post(
                url_for(world), data=json.dumps(body), content_type="application/json", **headers
            )
        assert response.status_code < 500, (endpoint, body, response.content)
        if response.status_code >= 400:
            assert set(response.json()) == {"error"}, response.content


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/tickets/99999999999999999999999/",
        "/api/v1/counters/99999999999999999999999/open/",
        "/api/v1/counters/0/call-next/",
        "/api/v1/halls/" + "x" * 300 + "/counters/",
        "/api/v1/halls/-/business-types/",
        "/api/v1/t/" + "%00" + "/",
        "/api/v1/t/" + "y" * 500 + "/",
        "/api/v1/t/%E4%B8%AD/",
    ],
)
def test_odd_urls_never_cause_a_server_error(world, url):
    client = client_for(world, "manager")
    for method in (client.get, client.post):
        response = method(url)
        assert 400 <= response.status_code < 500, (url, response.content)
        assert set(response.json()) == {"error"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nope/",
        "/api/v1/counters/abc/open/",  # malformed: the id is not a number
        "/api/v1/halls/demo/counters/x%0Ay/",  # a newline: no URL pattern can even match it
        "/api/v1/auth/token",  # the slash left off
    ],
)
def test_an_unknown_api_path_answers_the_json_404_to_a_signed_in_post(world, path):
    """Not Django's HTML CSRF page (the catch-all is a plain view, so the CSRF check ran first)
    nor its HTML 404, nor a redirect that drops the body."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.people["manager"])
    for response in (
        client.post(path, data="{}", content_type="application/json"),
        client.delete(path),
        client.get(path),
    ):
        assert response.status_code == 404, (path, response.content)
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]["code"] == "not_found"
    assert not AuditEvent.objects.exists()


def test_a_path_that_only_lacks_its_slash_is_named(world):
    response = Client().post("/api/v1/auth/token", {}, content_type="application/json")
    assert "/api/v1/auth/token/" in response.json()["error"]["message"]


def test_a_page_path_that_is_unknown_still_answers_a_page(world):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
