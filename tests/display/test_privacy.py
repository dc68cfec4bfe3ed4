"""Displays hang in the lobby: nothing personal may reach them (display/selectors.py).

A busy stretch of a day with customers' phones and VIP accounts, named staff, and clerks'
free-text notes; every raw frame of the lobby, counter and wall streams and the HTTP snapshot
are then searched for any of it.
"""

import asyncio
import json
import re

import pytest

from counters.services import (
    counter_call_next,
    counter_finish,
    counter_open,
    counter_pause,
    counter_requeue,
    counter_resume,
    counter_start,
    counter_transfer,
)
from hall.models import Role, StaffMembership
from queueing.services import ticket_cancel
from tests.conftest import counter
from tests.display.conftest import act
from tests.factories import issue

pytestmark = pytest.mark.django_db(transaction=True)

PHONES = ["13812345678", "13987654321"]
VIP_ACCOUNT = "VIP88001234"
NOTES = ["客户李四海的身份证在复印", "王五一等不及走了", "赵六顺满意而归"]
REASONS = ["pregnant", "military"]  # health and status details behind a priority ticket

# A phone in any masked spelling: 138****5678, *******5678, 138-1234-5678, 138 1234 5678.
PHONE_SHAPES = re.compile(r"\d{3}\*{4}\d{4}|\*{3,}\d{4}|1\d{2}[- ]\d{4}[- ]\d{4}")


@pytest.fixture
def named_staff(django_user_model, hall):
    def person(username, last, first, role):
        user = django_user_model.objects.create_user(
            username=username,
            password="pw",
            first_name=first,
            last_name=last,
            email=f"{username}@example.cn",
        )
        StaffMembership.objects.create(user=user, hall=hall, role=role)
        return user

    return {
        "greeter": person("zhang.sanfeng", "张", "三丰", Role.GREETER),
        "clerk": person("li.sihai", "李", "四海", Role.CLERK),
        "other_clerk": person("wang.wuyi", "王", "五一", Role.CLERK),
        "manager": person("zhao.liushun", "赵", "六顺", Role.MANAGER),
    }


def secrets_of(staff, *, names: bool = True) -> list[str]:
    """What no display may show. ``names=False``: the manager's wall, a staff-only stream,
    names the clerk at each counter (the duty manager runs the hall by them); it still shows
    no customer's phone or account, no note, no login name and no e-mail address."""
    secrets = [*PHONES, VIP_ACCOUNT, *NOTES, *REASONS]
    for user in staff.values():
        secrets += [user.username, user.email]
        if names:
            secrets += [
                user.first_name,
                user.last_name + user.first_name,
                user.first_name + user.last_name,
            ]
    return secrets


async def raw_frames(stream) -> list[str]:
    """Every text frame the stream has sent, exactly as sent, until it goes quiet."""
    texts = []
    while not await stream.receive_nothing(0.3):
        texts.append(await stream.receive_from())
    return texts


def leaks(text: str, secrets: list[str]) -> list[str]:
    # Search the bytes as sent and the decoded text, in case an encoder escapes non-ASCII.
    readable = json.dumps(json.loads(text), ensure_ascii=False)
    found = [s for s in secrets if s in text or s in readable]
    found += PHONE_SHAPES.findall(text) + PHONE_SHAPES.findall(readable)
    return found


async def test_no_phone_account_name_or_note_reaches_any_display(
    hall, kiosk, display_device, named_staff, streams, api
):
    greeter, clerk = named_staff["greeter"], named_staff["clerk"]
    other_clerk, manager = named_staff["other_clerk"], named_staff["manager"]
    c1, c2, c3 = [await act(counter, hall, n) for n in (1, 2, 3)]
    lobby = await streams.lobby(display_device)
    wall = await streams.wall(manager)
    screens = [await streams.counter(c, display_device) for c in (c1, c2, c3)]

    tickets = [
        await act(issue, hall, by=greeter, phone=PHONES[0], lane="priority", reason="pregnant"),
        await act(issue, hall, device=kiosk, lane="vip", vip_account=VIP_ACCOUNT, phone=PHONES[1]),
        await act(
            issue, hall, "topup", by=greeter, phone=PHONES[0], lane="priority", reason="military"
        ),
        await act(issue, hall, by=greeter, phone=PHONES[1]),
        await act(issue, hall, by=greeter, phone=PHONES[1]),
    ]
    leaving = tickets[3]
    await act(counter_open, counter_id=c3.pk, user=clerk)  # VIP first: calls the VIP ticket
    await act(counter_open, counter_id=c1.pk, user=other_clerk)
    await act(counter_open, counter_id=c2.pk, user=manager)
    await act(counter_call_next, counter_id=c3.pk, user=clerk)
    await act(counter_call_next, counter_id=c1.pk, user=other_clerk)
    await act(ticket_cancel, ticket=leaving, actor=greeter, reason=NOTES[1])
    await act(counter_start, counter_id=c3.pk, user=clerk)
    await act(counter_finish, counter_id=c3.pk, user=clerk, note=NOTES[2])
    await act(counter_pause, counter_id=c3.pk, user=clerk, reason="other", note=NOTES[0])
    await act(counter_resume, counter_id=c3.pk, user=clerk)
    await act(counter_call_next, counter_id=c3.pk, user=clerk)
    # c3 calls the top-up greeted at busy c1 (issue 16) and hands it to c1, which serves top-ups.
    await act(counter_transfer, counter_id=c3.pk, user=clerk, target_counter_id=c1.pk)
    # c1 sends its customer back to the front of the queue, then pauses (issue 16).
    await act(counter_requeue, counter_id=c1.pk, user=other_clerk)
    await act(counter_pause, counter_id=c1.pk, user=other_clerk, reason="break", note=NOTES[0])
    for stream in (lobby, wall, *screens):  # and a snapshot of the end state, on every stream
        await stream.send_to(text_data='{"type": "resync"}')

    names = ["lobby", "wall", *(f"counter {c.number}" for c in (c1, c2, c3))]
    opened = [lobby, wall, *screens]
    later = await asyncio.gather(*(raw_frames(stream) for stream in opened))
    sent = {
        name: [stream.snapshot_text, *texts]
        for name, stream, texts in zip(names, opened, later, strict=True)
    }
    response = await act(lambda: api.as_device(display_device).get("/api/v1/halls/h1/snapshot/"))
    assert response.status_code == 200
    sent["HTTP snapshot"] = [response.content.decode()]

    # The streams did carry the day: the search below looked at real frames.
    kinds = {json.loads(t)["type"] for t in sent["lobby"]}
    assert {"ticket.issued", "ticket.called", "ticket.cancelled", "counter.paused"} <= kinds
    assert {"ticket.done", "ticket.transferred", "snapshot"} <= kinds
    assert len(sent["counter 3"]) >= 9
    assert "ticket.called" in {json.loads(t)["type"] for t in sent["counter 1"]}

    # A ticket's public token opens its owner's status page: the customer's, not the lobby's.
    tokens = [t.public_token for t in tickets]
    secrets = secrets_of(named_staff) + tokens
    staff_only = secrets_of(named_staff, names=False) + tokens
    found = {
        where: sorted(
            {s for text in texts for s in leaks(text, staff_only if where == "wall" else secrets)}
        )
        for where, texts in sent.items()
    }
    assert found == {where: [] for where in sent}
    # The wall did name the clerks: the narrower search above is not an empty one.
    assert any("四海" in text for text in sent["wall"])
