"""The wall stream's metrics: in its snapshot, then pushed after events, coalesced per hall.

Through the real ASGI application and services, on the in-memory layer (tests/display/conftest).
The push intervals are shortened here so the tests take seconds, not minutes.
"""

import asyncio
import datetime
import json
import time

import pytest
from django.utils import timezone

from counters.services import counter_open, counter_pause
from display.wall.stream import ticker_for
from recovery.models import AlertKind, ManagerAlert
from tests.conftest import counter
from tests.display.conftest import act
from tests.factories import issue

pytestmark = pytest.mark.django_db(transaction=True)

DELAY, MIN_INTERVAL = 0.2, 1.0


@pytest.fixture(autouse=True)
def push_metrics(settings):
    settings.WALL_METRICS_PUSH = True
    settings.WALL_METRICS_DELAY_SECONDS = DELAY
    settings.WALL_METRICS_MIN_INTERVAL_SECONDS = MIN_INTERVAL
    settings.WALL_METRICS_REFRESH_SECONDS = 60


async def frames_for(stream, seconds: float) -> list[dict]:
    """Every frame the stream sends within ``seconds``, but boards (display.board: tested in
    test_board_stream)."""
    got, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = json.loads(await stream.receive_from(left))
        except TimeoutError:
            break
        if message["type"] != "board":
            got.append(message)
    return got


async def test_the_wall_snapshot_carries_the_metrics_and_the_lobby_does_not(
    hall, display_device, greeter, manager, streams
):
    for _ in range(2):
        await act(issue, hall, by=greeter)

    wall = await streams.wall(manager)
    lobby = await streams.lobby(display_device)

    metrics = wall.snapshot["metrics"]
    assert metrics["hall"] == "h1" and wall.snapshot["seq"] == 2
    assert metrics["waiting"]["total"] == 2
    assert {row["code"]: row["waiting"] for row in metrics["waiting"]["by_business_type"]} == {
        "payment": 2,
        "topup": 0,
        "service": 0,
    }
    assert "metrics" not in lobby.snapshot


async def test_an_event_brings_a_metrics_frame_with_the_streams_own_seq(
    hall, greeter, clerk_a, manager, streams
):
    wall = await streams.wall(manager)
    await act(issue, hall, by=greeter)

    got = await frames_for(wall, DELAY + MIN_INTERVAL + 1.5)

    assert [f["type"] for f in got] == ["ticket.issued", "metrics"]
    issued, pushed = got
    assert pushed["seq"] == issued["seq"] == 1  # not a new seq: no client sees a gap
    assert pushed["metrics"]["waiting"]["total"] == 1
    assert pushed["at"] == pushed["metrics"]["at"]


async def test_a_burst_of_events_costs_a_few_computations_and_lobbies_get_none(
    hall, display_device, greeter, manager, clerk_a, streams
):
    walls = [await streams.wall(manager), await streams.wall(clerk_a)]
    lobby = await streams.lobby(display_device)
    ticker = ticker_for(hall.pk)

    started = time.monotonic()
    for _ in range(50):
        await act(issue, hall, by=greeter)
    burst = time.monotonic() - started
    settle = DELAY + MIN_INTERVAL + 1.5
    frames = [await frames_for(wall, burst + settle) for wall in walls]
    lobby_frames = await frames_for(lobby, 0.5)

    # One computation for both walls of the hall in this process, at most one per interval.
    bound = int(burst / MIN_INTERVAL) + 2
    assert 1 <= ticker.computations <= bound
    for got in frames:
        events = [f for f in got if f["type"] not in ("metrics", "heartbeat")]
        pushed = [f for f in got if f["type"] == "metrics"]
        # The 50 issues and the alert recovery raised after the issue that passed the hall's
        # threshold of 15 waiting (the wall's computation only reads). Two committers at once
        # may reach the layer out of order: the stream then answers the gap with a snapshot,
        # so the frames are in order but maybe not all.
        seqs = [f["seq"] for f in events]
        assert seqs == sorted(set(seqs)) and seqs[-1] == 51
        assert 1 <= len(pushed) <= bound
        assert pushed[-1]["metrics"]["waiting"]["total"] == 50  # the burst's end is shown
        last_seq = 0
        for f in got:  # each metrics frame repeats the seq of the frame before it
            if f["type"] == "metrics":
                assert f["seq"] == last_seq
            elif f["type"] != "heartbeat":
                last_seq = f["seq"]
    alerts = await act(
        lambda: list(ManagerAlert.objects.filter(cleared_at=None).values_list("kind", flat=True))
    )
    assert alerts == [AlertKind.MANY_WAITING]
    assert all(f["type"] != "metrics" for f in lobby_frames)
    assert len(lobby.snapshot_text) and "metrics" not in lobby.snapshot


async def test_a_long_pause_raises_its_alert_after_commit_and_the_wall_shows_it(
    hall, greeter, clerk_a, manager, streams
):
    one = await act(counter, hall, 1)
    began = timezone.now() - datetime.timedelta(minutes=hall.pause_alert_minutes + 1)
    await act(counter_open, counter_id=one.pk, user=clerk_a, now=began)
    wall = await streams.wall(manager)

    await act(counter_pause, counter_id=one.pk, user=clerk_a, reason="break", now=began)
    got = await frames_for(wall, DELAY + 2 * MIN_INTERVAL + 2)

    kinds = [f["type"] for f in got]
    assert kinds[0] == "counter.paused" and "alert.raised" in kinds
    shown = [f for f in got if f["type"] == "metrics" and f["metrics"]["alerts"]]
    assert shown, kinds
    (alert,) = shown[-1]["metrics"]["alerts"]
    assert alert["kind"] == AlertKind.LONG_PAUSE and alert["subject"] == f"counter:{one.pk}"
    assert (
        await act(
            lambda: ManagerAlert.objects.filter(kind=AlertKind.LONG_PAUSE, cleared_at=None).count()
        )
        == 1
    )


async def test_the_last_wall_leaving_stops_its_hall_ticker(hall, manager, streams):
    wall = await streams.wall(manager)
    ticker = ticker_for(hall.pk)
    assert ticker is not None and not ticker.task.done()

    await wall.disconnect()
    await asyncio.sleep(0)

    assert ticker_for(hall.pk) is None
    assert ticker.task.cancelled() or ticker.task.done()
