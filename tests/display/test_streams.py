"""The lobby, counter and wall streams as a display sees them (DESIGN.md, "Public contract").

Each test connects through the real ASGI application and drives the hall through the real
services, so a frame arrives only if the service published it after commit.
"""

import asyncio
import json

import pytest
from channels.layers import get_channel_layer

from counters.apologies import apology_for
from counters.services import (
    counter_call_next,
    counter_close,
    counter_finish,
    counter_no_show,
    counter_open,
    counter_pause,
    counter_recall,
    counter_resume,
    counter_start,
    counter_transfer,
)
from display.publisher import counter_group, hall_group
from hall.services import device_register
from queueing.services import day_close, ticket_cancel
from tests.conftest import counter
from tests.display.conftest import act, counter_1_calling, event, frame, no_event, refusal
from tests.factories import issue

pytestmark = pytest.mark.django_db(transaction=True)


def numbers(message: dict, *slots: str) -> tuple:
    """The ticket numbers in ``message``'s slots (None for an empty slot)."""
    return tuple((message[slot] or {}).get("number") for slot in slots)


# --- Snapshot on connect ---------------------------------------------------------------------


async def test_every_stream_starts_with_a_snapshot_at_the_current_seq(
    hall, display_device, greeter, clerk_a, manager, streams
):
    c1 = await act(counter, hall, 1)
    for _ in range(2):
        await act(issue, hall, by=greeter)
    await act(counter_open, counter_id=c1.pk, user=clerk_a)
    await act(counter_call_next, counter_id=c1.pk, user=clerk_a)  # seq 4

    lobby = await streams.lobby(display_device)
    wall = await streams.wall(manager)
    one = await streams.counter(c1, display_device)
    four = await streams.counter(await act(counter, hall, 4), display_device)

    for snapshot in (lobby.snapshot, wall.snapshot):
        assert snapshot["seq"] == 4
        assert snapshot["hall"]["code"] == "h1"
        assert [c["number"] for c in snapshot["counters"]] == [1, 2, 3, 4]
        assert snapshot["counters"][0]["current"]["number"] == "A001"
        assert snapshot["recent_calls"][0]["number"] == "A001"
        payment = next(b for b in snapshot["business_types"] if b["code"] == "payment")
        assert payment["waiting"] == 1
    # A counter display's seq is that of the last event concerning its counter.
    assert one.snapshot["seq"] == 4
    assert one.snapshot["counter"]["current"]["number"] == "A001"
    assert one.snapshot["counter"]["greeted"]["number"] == "A002"
    assert four.snapshot["seq"] == 0
    assert four.snapshot["counter"]["state"] == "closed"


# --- Every event, in seq order, to the right streams -----------------------------------------


async def test_lobby_and_wall_get_every_event_with_the_next_seq(
    hall, display_device, greeter, clerk_a, manager, streams
):
    lobby = await streams.lobby(display_device)
    wall = await streams.wall(manager)
    c1 = await act(counter, hall, 1)
    one = dict(counter_id=c1.pk, user=clerk_a)

    for _ in range(3):
        await act(issue, hall, by=greeter)  # A001..A003
    await act(counter_open, **one)
    await act(counter_call_next, **one)  # A001
    await act(counter_recall, **one)
    await act(counter_start, **one)
    await act(counter_finish, **one)
    await act(counter_call_next, **one)  # A002
    await act(counter_no_show, **one)
    await act(counter_call_next, **one)  # A003
    await act(counter_transfer, business_type_code="service", **one)
    cancelled = await act(issue, hall, by=greeter)
    await act(ticket_cancel, ticket=cancelled, actor=greeter)
    await act(counter_pause, reason="break", **one)
    await act(counter_resume, **one)
    await act(counter_close, **one)

    expected = [
        "ticket.issued",
        "ticket.issued",
        "ticket.issued",
        "counter.opened",
        "ticket.called",
        "ticket.recalled",
        "ticket.started",
        "ticket.done",
        "ticket.called",
        "ticket.no_show",
        "ticket.called",
        "ticket.transferred",
        "alert.raised",  # A003 now waits for service, and no open counter serves it
        "ticket.issued",
        "ticket.cancelled",
        "counter.paused",
        "counter.resumed",
        "counter.closed",
    ]
    for stream in (lobby, wall):
        got = [await event(stream) for _ in expected]
        assert [f["type"] for f in got] == expected
        assert [f["seq"] for f in got] == list(range(1, len(expected) + 1))
        assert await no_event(stream)

    # The frames name what happened, as the lobby shows it.
    assert [f["ticket"]["number"] for f in got[:3]] == ["A001", "A002", "A003"]
    assert got[5]["ticket"]["number"] == "A001" and got[5]["recall_count"] == 1
    assert got[7]["ticket"]["status"] == "done"
    assert got[9]["ticket"]["number"] == "A002" and got[9]["ticket"]["status"] == "no_show"
    transferred = got[11]
    assert transferred["ticket"]["number"] == "A003"
    assert transferred["ticket"]["status"] == "waiting"
    assert transferred["business_type"] == "service"
    assert got[14]["ticket"]["number"] == "A004" and got[14]["ticket"]["status"] == "cancelled"
    # Built under the hall lock from rows in hand: no frame carries the hall's board (its
    # waiting counts and estimates come after commit in board frames: test_board_stream).
    assert not any("business_types" in f for f in got)


async def test_called_frame_names_the_ticket_the_counter_and_its_window(
    hall, display_device, greeter, clerk_a, streams
):
    c1 = await act(counter, hall, 1)
    for _ in range(4):
        await act(issue, hall, by=greeter)
    await act(counter_open, counter_id=c1.pk, user=clerk_a)
    lobby = await streams.lobby(display_device)

    await act(counter_call_next, counter_id=c1.pk, user=clerk_a)

    called = await event(lobby)
    assert called["type"] == "ticket.called"
    assert called["seq"] == lobby.snapshot["seq"] + 1
    assert numbers(called, "ticket", "greeted", "attended") == ("A001", "A002", "A003")
    assert called["counter"] == {"id": c1.pk, "number": 1}
    assert called["ticket"]["status"] == "called"
    (state,) = called["counters"]
    assert numbers(state, "current", "greeted", "attended") == ("A001", "A002", "A003")


async def test_paused_frame_carries_the_apology_and_resumed_clears_it(
    hall, display_device, greeter, clerk_a, streams
):
    c2 = await act(counter, hall, 2)
    await act(counter_open, counter_id=c2.pk, user=clerk_a)
    lobby = await streams.lobby(display_device)
    screen = await streams.counter(c2, display_device)

    await act(counter_pause, counter_id=c2.pk, user=clerk_a, reason="system_fault")
    await act(counter_resume, counter_id=c2.pk, user=clerk_a)

    zh, en = apology_for("system_fault")
    for stream in (lobby, screen):
        paused, resumed = await event(stream), await event(stream)
        assert paused["type"] == "counter.paused"
        assert (paused["reason"], paused["apology_zh"], paused["apology_en"]) == (
            "system_fault",
            zh,
            en,
        )
        assert paused["counter"] == {"id": c2.pk, "number": 2}
        assert paused["counters"][0]["pause"]["apology_zh"] == zh
        assert resumed["type"] == "counter.resumed"
        assert resumed["counters"][0]["state"] == "open"
        assert resumed["counters"][0]["pause"] is None


async def test_counter_stream_gets_only_its_counters_events_chained_by_prev_seq(
    hall, display_device, greeter, clerk_a, clerk_b, streams
):
    c1, c2 = await act(counter, hall, 1), await act(counter, hall, 2)
    one = await streams.counter(c1, display_device)
    two = await streams.counter(c2, display_device)

    await act(issue, hall, by=greeter)  # 1: no counter
    await act(counter_open, counter_id=c1.pk, user=clerk_a)  # 2: counter 1
    await act(counter_open, counter_id=c2.pk, user=clerk_b)  # 3: counter 2
    await act(issue, hall, by=greeter)  # 4
    await act(counter_call_next, counter_id=c1.pk, user=clerk_a)  # 5: counter 1, greets A002
    await act(counter_start, counter_id=c1.pk, user=clerk_a)  # 6: counter 1
    await act(counter_pause, counter_id=c2.pk, user=clerk_b, reason="break")  # 7: counter 2

    got_one = [await event(one) for _ in range(3)]
    assert [(f["type"], f["seq"], f["prev_seq"]) for f in got_one] == [
        ("counter.opened", 2, 0),
        ("ticket.called", 5, 2),
        ("ticket.started", 6, 5),
    ]
    got_two = [await event(two) for _ in range(2)]
    assert [(f["type"], f["seq"], f["prev_seq"]) for f in got_two] == [
        ("counter.opened", 3, 0),
        ("counter.paused", 7, 3),
    ]
    assert all(f["counter"]["id"] == c1.pk for f in got_one)
    assert await one.receive_nothing() and await two.receive_nothing()


async def test_call_taking_another_counters_attended_ticket_reaches_that_counters_display(
    hall, display_device, greeter, clerk_a, clerk_b, streams
):
    hall.greeting_binds_counter = True  # the older rule: only the attended ticket may move
    await act(hall.save, update_fields=["greeting_binds_counter"])
    c1, c2 = await act(counter, hall, 1), await act(counter, hall, 2)
    for _ in range(3):
        await act(issue, hall, by=greeter)
    await act(counter_open, counter_id=c1.pk, user=clerk_a)
    await act(counter_open, counter_id=c2.pk, user=clerk_b)
    await act(counter_call_next, counter_id=c1.pk, user=clerk_a)  # A001; greets A002, attends A003
    one = await streams.counter(c1, display_device)
    assert numbers(one.snapshot["counter"], "attended") == ("A003",)

    await act(counter_call_next, counter_id=c2.pk, user=clerk_b)  # takes A003

    taken = await event(one)
    assert taken["type"] == "ticket.called"
    assert taken["counter"] == {"id": c2.pk, "number": 2}
    assert taken["ticket"]["number"] == "A003"
    assert taken["prev_seq"] == one.snapshot["seq"]
    own = next(c for c in taken["counters"] if c["id"] == c1.pk)
    assert numbers(own, "current", "greeted", "attended") == ("A001", "A002", None)


async def test_call_taking_another_counters_greeted_ticket_reaches_both_displays(
    hall, display_device, greeter, clerk_a, clerk_b, streams
):
    """Issue 16: counter 2 calls A002, greeted at busy counter 1; counter 1's display shows the
    customer it now greets (B001, a top-up that counter 2 does not serve), never A002."""
    c1, c2 = await act(counter, hall, 1), await act(counter, hall, 2)
    await act(issue, hall, by=greeter)
    await act(issue, hall, by=greeter)
    await act(issue, hall, "topup", by=greeter)
    await act(counter_open, counter_id=c1.pk, user=clerk_a)
    await act(counter_open, counter_id=c2.pk, user=clerk_b)
    await act(counter_call_next, counter_id=c1.pk, user=clerk_a)  # A001; greets A002, attends B001
    one = await streams.counter(c1, display_device)
    lobby = await streams.lobby(display_device)
    assert numbers(one.snapshot["counter"], "greeted", "attended") == ("A002", "B001")

    await act(counter_call_next, counter_id=c2.pk, user=clerk_b)

    for stream in (one, lobby):
        taken = await event(stream)
        assert taken["type"] == "ticket.called"
        assert taken["counter"] == {"id": c2.pk, "number": 2}
        assert taken["ticket"]["number"] == "A002"
        assert taken["call"]["counter"] == 2
        by_id = {c["id"]: c for c in taken["counters"]}
        assert numbers(by_id[c1.pk], "current", "greeted", "attended") == ("A001", "B001", None)
        assert numbers(by_id[c2.pk], "current") == ("A002",)


async def test_cancelling_a_greeted_ticket_reaches_its_counters_display(
    hall, display_device, greeter, clerk_a, streams
):
    c1 = await act(counter, hall, 1)
    await act(issue, hall, by=greeter)
    greeted = await act(issue, hall, by=greeter)
    await act(counter_open, counter_id=c1.pk, user=clerk_a)
    await act(counter_call_next, counter_id=c1.pk, user=clerk_a)
    one = await streams.counter(c1, display_device)

    await act(ticket_cancel, ticket=greeted, actor=greeter)

    cancelled = await event(one)
    assert cancelled["type"] == "ticket.cancelled"
    assert cancelled["ticket"]["number"] == "A002"
    assert cancelled["counters"][0]["greeted"] is None


async def test_day_close_sends_every_stream_a_fresh_snapshot(
    hall, display_device, greeter, clerk_a, manager, streams
):
    c1 = await act(counter_1_calling, hall, greeter, clerk_a)
    lobby = await streams.lobby(display_device)
    wall = await streams.wall(manager)
    one = await streams.counter(c1, display_device)

    expired = await act(day_close, hall=hall, force=True)

    assert expired == 3
    last_seq = lobby.snapshot["seq"] + expired
    for stream in (lobby, wall):
        fresh = await event(stream)
        assert (fresh["type"], fresh["seq"]) == ("snapshot", last_seq)
        assert all(b["waiting"] == 0 for b in fresh["business_types"])  # its own board
        assert fresh["counters"][0]["current"] is None
    fresh = await event(one)
    assert (fresh["type"], fresh["seq"]) == ("snapshot", last_seq)
    assert numbers(fresh["counter"], "current", "greeted", "attended") == (None, None, None)
    # The reset itself is not forwarded: displays only ever see snapshots and events.
    assert await no_event(lobby) and await no_event(one)


# --- Who may connect -------------------------------------------------------------------------


@pytest.fixture
def other_display(other_hall):
    device, token = device_register(hall=other_hall, kind="display", name="lobby h2")
    device.token = token
    return device


@pytest.mark.parametrize("stream", ["lobby", "counter"])
async def test_display_of_another_hall_is_refused_with_4403(hall, other_display, streams, stream):
    c1 = await act(counter, hall, 1)
    path = "/ws/halls/h1/display/" if stream == "lobby" else f"/ws/counters/{c1.pk}/display/"

    error, code = await refusal(await streams.connect(path, token=other_display.token))

    assert (error["type"], code) == ("error", 4403)
    assert "其他营业厅" in error["message"]  # "another hall", in the default language


@pytest.mark.parametrize("token", ["not-a-token", None], ids=["unknown token", "no credentials"])
async def test_unknown_or_missing_credentials_are_refused_with_4401(hall, streams, token):
    error, code = await refusal(await streams.connect("/ws/halls/h1/display/", token=token))

    assert (error["type"], code) == ("error", 4401)


async def test_disabled_display_is_refused_with_4401(hall, display_device, streams):
    display_device.active = False
    await act(display_device.save, update_fields=["active"])

    error, code = await refusal(
        await streams.connect("/ws/halls/h1/display/", token=display_device.token)
    )

    assert (error["type"], code) == ("error", 4401)


@pytest.mark.parametrize(
    "path",
    ["/ws/halls/nowhere/display/", "/ws/halls/nowhere/wall/", "/ws/counters/999999/display/"],
)
async def test_unknown_hall_or_counter_is_refused_with_4404(display_device, streams, path):
    error, code = await refusal(await streams.connect(path, token=display_device.token))

    assert (error["type"], code) == ("error", 4404)


async def test_a_device_on_the_wall_is_refused_with_4403(hall, display_device, streams):
    error, code = await refusal(
        await streams.connect("/ws/halls/h1/wall/", token=display_device.token)
    )

    assert (error["type"], code) == ("error", 4403)


async def test_staff_of_another_hall_on_the_wall_is_refused_with_4403(hall, outsider, streams):
    error, code = await refusal(await streams.connect("/ws/halls/h1/wall/", user=outsider))

    assert (error["type"], code) == ("error", 4403)


@pytest.mark.parametrize(
    "origin", ["https://evil.example", None], ids=["another site's page", "no Origin"]
)
async def test_signed_in_stream_opened_from_another_site_is_refused_with_4403(
    hall, manager, streams, origin
):
    # A page of another site open in the manager's browser would send their session cookie.
    error, code = await refusal(
        await streams.connect("/ws/halls/h1/wall/", user=manager, origin=origin)
    )

    assert (error["type"], code) == ("error", 4403)


async def test_signed_in_clerk_and_manager_get_the_wall(hall, clerk_a, manager, streams):
    for person in (manager, clerk_a):
        wall = await streams.wall(person)
        assert wall.snapshot["hall"]["code"] == "h1"


async def test_signed_in_clerk_gets_the_lobby_and_counter_displays(hall, clerk_a, streams):
    # The counter console and the lobby page open these streams with the clerk's session.
    c1 = await act(counter, hall, 1)
    for path in ("/ws/halls/h1/display/", f"/ws/counters/{c1.pk}/display/"):
        stream = await streams.connect(path, user=clerk_a)
        assert (await frame(stream))["type"] == "snapshot"


# --- What a display may say ------------------------------------------------------------------


async def test_resync_request_returns_a_fresh_snapshot(hall, display_device, greeter, streams):
    lobby = await streams.lobby(display_device)
    await act(issue, hall, by=greeter)
    await event(lobby)

    await lobby.send_to(text_data=json.dumps({"type": "resync"}))

    snapshot = await event(lobby)
    assert (snapshot["type"], snapshot["seq"]) == ("snapshot", 1)
    payment = next(b for b in snapshot["business_types"] if b["code"] == "payment")
    assert payment["waiting"] == 1


@pytest.mark.parametrize("text", ["hello", '{"type": "call_next"}', "[]"])
async def test_bad_client_message_gets_an_error_and_the_stream_stays_open(
    hall, display_device, greeter, streams, text
):
    lobby = await streams.lobby(display_device)

    await lobby.send_to(text_data=text)

    assert (await frame(lobby))["type"] == "error"
    await act(issue, hall, by=greeter)
    assert (await event(lobby))["type"] == "ticket.issued"


# --- Lost, stale and late messages -----------------------------------------------------------


async def test_lobby_answers_a_gap_with_a_fresh_snapshot_not_the_event(
    hall, display_device, greeter, streams, lose_next_publish
):
    lobby = await streams.lobby(display_device)

    lose_next_publish()
    await act(issue, hall, by=greeter)  # seq 1: lost
    await act(issue, hall, by=greeter)  # seq 2: arrives, one after a gap

    assert lose_next_publish.lost
    resync = await event(lobby)
    assert (resync["type"], resync["seq"]) == ("snapshot", 2)
    payment = next(b for b in resync["business_types"] if b["code"] == "payment")
    assert payment["waiting"] == 2
    await act(issue, hall, by=greeter)  # and the stream goes on from there
    following = await event(lobby)
    assert (following["type"], following["seq"]) == ("ticket.issued", 3)


async def test_counter_display_answers_a_gap_in_prev_seq_with_a_fresh_snapshot(
    hall, display_device, greeter, clerk_a, streams, lose_next_publish
):
    c1 = await act(counter, hall, 1)
    await act(issue, hall, by=greeter)
    one = await streams.counter(c1, display_device)

    lose_next_publish()
    await act(counter_open, counter_id=c1.pk, user=clerk_a)  # seq 2: lost
    await act(issue, hall, by=greeter)  # seq 3: not for counter 1
    await act(counter_call_next, counter_id=c1.pk, user=clerk_a)  # seq 4, prev_seq 2

    resync = await event(one)
    assert (resync["type"], resync["seq"]) == ("snapshot", 4)
    assert resync["counter"]["state"] == "open"
    assert resync["counter"]["current"]["number"] == "A001"


async def test_stale_message_already_in_the_snapshot_is_dropped(
    hall, display_device, greeter, clerk_a, streams
):
    c1 = await act(counter, hall, 1)
    await act(issue, hall, by=greeter)
    await act(counter_open, counter_id=c1.pk, user=clerk_a)  # seq 2
    lobby = await streams.lobby(display_device)
    one = await streams.counter(c1, display_device)
    layer = get_channel_layer()

    # A redelivered (or late) message of an event the snapshot already holds.
    for seq in (1, 2):
        text = json.dumps({"type": "ticket.issued", "seq": seq, "stale": True})
        await layer.group_send(
            hall_group(hall.pk),
            {"type": "display.event", "kind": "ticket.issued", "seq": seq, "text": text},
        )
    await layer.group_send(
        counter_group(c1.pk),
        {"type": "display.event", "kind": "counter.opened", "seq": 2, "prev_seq": 0, "text": "{}"},
    )

    assert await asyncio.gather(no_event(lobby, 0.2), one.receive_nothing(0.2)) == [
        True,
        True,
    ]


# --- Heartbeat -------------------------------------------------------------------------------


async def test_idle_stream_hears_a_heartbeat_with_its_seq(
    hall, display_device, greeter, streams, settings
):
    settings.DISPLAY_HEARTBEAT_SECONDS = 0.05
    await act(issue, hall, by=greeter)
    lobby = await streams.lobby(display_device)

    beat = await frame(lobby)

    assert (beat["type"], beat["seq"]) == ("heartbeat", 1)
    assert beat["now"]


async def test_heartbeat_outlives_a_channel_layer_that_fails_for_a_while(
    hall, display_device, greeter, streams, settings, monkeypatch
):
    """Redis down at a beat (its group_add raises): that beat is skipped, the next ones come."""
    from channels.layers import InMemoryChannelLayer

    settings.DISPLAY_HEARTBEAT_SECONDS = 0.05
    await act(issue, hall, by=greeter)
    lobby = await streams.lobby(display_device)
    failures = []
    group_add = InMemoryChannelLayer.group_add

    async def flaky_group_add(self, group, channel):
        if len(failures) < 3:
            failures.append(group)
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return await group_add(self, group, channel)

    monkeypatch.setattr(InMemoryChannelLayer, "group_add", flaky_group_add)

    beat = await frame(lobby)

    assert len(failures) == 3
    assert (beat["type"], beat["seq"]) == ("heartbeat", 1)


@pytest.mark.parametrize("stream", ["lobby", "counter"])
async def test_heartbeat_resyncs_a_stream_whose_last_event_never_arrived(
    hall, display_device, greeter, clerk_a, streams, settings, lose_next_publish, stream
):
    settings.DISPLAY_HEARTBEAT_SECONDS = 0.05
    c1 = await act(counter, hall, 1)
    screen = await (
        streams.lobby(display_device) if stream == "lobby" else streams.counter(c1, display_device)
    )

    lose_next_publish()
    await act(counter_open, counter_id=c1.pk, user=clerk_a)  # seq 1: lost, and nothing follows

    # Heartbeats until the consumer notices the database is ahead; then a snapshot, at once
    # after the grace second it gives an in-flight message.
    async with asyncio.timeout(3):
        while (got := await frame(screen))["type"] == "heartbeat":
            assert got["seq"] == 0
    assert (got["type"], got["seq"]) == ("snapshot", 1)
    opened = got["counters"][0] if stream == "lobby" else got["counter"]
    assert opened["state"] == "open"
