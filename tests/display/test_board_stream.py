"""The board (waiting and estimated wait per business type) comes after commit, off the write
path: computed in the live tier per hall at most once per interval, pushed as its own frame.

Through the real ASGI application and services, on the in-memory layer (tests/display/conftest).
"""

import json
import time

import pytest

import display.selectors
from display.board import board_compute, board_kept, board_latest, board_refresh
from display.consumers import BOARD
from display.tickers import ticker_for
from queueing import estimates
from tests.display.conftest import act, event, frame
from tests.factories import issue

pytestmark = pytest.mark.django_db(transaction=True)

MIN_INTERVAL = 0.25


@pytest.fixture(autouse=True)
def board_interval(settings):
    settings.DISPLAY_BOARD_MIN_INTERVAL_SECONDS = MIN_INTERVAL
    settings.WALL_METRICS_PUSH = False


async def boards_for(stream, seconds: float) -> tuple[list[dict], list[dict]]:
    """(events, boards) the stream sends within ``seconds``."""
    events, boards, deadline = [], [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = json.loads(await stream.receive_from(left))
        except TimeoutError:
            break
        (boards if message["type"] == "board" else events).append(message)
    return events, boards


async def test_an_event_brings_a_board_with_the_streams_own_seq(
    hall, display_device, greeter, streams
):
    lobby = await streams.lobby(display_device)
    assert {b["code"]: b["waiting"] for b in lobby.snapshot["business_types"]}["payment"] == 0

    await act(issue, hall, by=greeter)
    issued = await event(lobby)
    assert "business_types" not in issued  # the event frame is built from rows in hand
    board = await frame(lobby, MIN_INTERVAL + 2)

    assert board["type"] == "board"
    assert board["seq"] == issued["seq"] == 1  # not a new seq: no client sees a gap
    rows = {b["code"]: b for b in board["business_types"]}
    assert rows["payment"]["waiting"] == 1
    assert set(rows["payment"]) == {
        "code", "name_zh", "name_en", "prefix", "waiting", "estimated_wait_s", "counters_open",
        "estimated_wait_range_s", "estimated_wait_range_10_90_s", "wait",
    }  # fmt: skip


async def test_a_burst_costs_at_most_one_board_per_interval_and_ends_on_the_truth(
    hall, display_device, greeter, streams
):
    # 30 waiting stay under the hall's alert threshold: the stream is the 30 issues alone (past
    # it, recovery's "too many waiting" alert would add its alert.raised event).
    hall.waiting_alert_threshold = 30
    await act(hall.save)
    lobbies = [await streams.lobby(display_device), await streams.lobby(display_device)]
    ticker = ticker_for(BOARD, hall.pk)

    started = time.monotonic()
    for _ in range(30):
        await act(issue, hall, by=greeter)
    burst = time.monotonic() - started
    got = [await boards_for(lobby, burst + MIN_INTERVAL + 1.5) for lobby in lobbies]

    # One computation for both streams of the hall in this process, at most one per interval.
    assert 1 <= ticker.computations <= int(burst / MIN_INTERVAL) + 2
    for events, boards in got:
        assert [e["seq"] for e in events if e["type"] != "heartbeat"] == list(range(1, 31))
        last = {b["code"]: b["waiting"] for b in boards[-1]["business_types"]}
        assert last["payment"] == 30  # the burst's end is shown
        # Each board carries the seq of the event frame before it: never ahead of the stream.
        assert all(b["seq"] <= 30 for b in boards)


async def test_a_board_a_display_would_show_the_same_is_not_sent_again(
    hall, display_device, greeter, streams
):
    lobby = await streams.lobby(display_device)
    await act(issue, hall, by=greeter)
    await event(lobby)
    first = await frame(lobby, MIN_INTERVAL + 2)
    assert first["type"] == "board"
    ticker = ticker_for(BOARD, hall.pk)
    computed = ticker.computations

    ticker.poke()  # a computation whose figures are those already on the screens
    assert await lobby.receive_nothing(timeout=MIN_INTERVAL + 1)
    assert ticker.computations == computed + 1

    await act(issue, hall, by=greeter)  # one more waiting: a new board
    _, boards = await boards_for(lobby, MIN_INTERVAL + 1.5)
    assert [{b["code"]: b["waiting"] for b in board["business_types"]}["payment"]
            for board in boards] == [2]  # fmt: skip


async def test_each_board_keeps_the_estimates_for_new_tickets(
    hall, display_device, greeter, streams
):
    lobby = await streams.lobby(display_device)
    await act(issue, hall, by=greeter)
    await event(lobby)
    await frame(lobby, MIN_INTERVAL + 2)

    board = await act(estimates.board_cached, hall_id=hall.pk)
    payment = next(row for pk, row in board["types"].items() if row["waiting"] == 1)
    assert set(payment["bands"]) == {"vip", "priority", "normal"}
    # Each lane's [point, p10, p25, p75, p90]: nobody open yet, all assumed, called at once.
    assert payment["bands"]["normal"] == [0, 0, 0, 0, 0]


def test_no_board_is_computed_where_no_stream_is_connected(hall, greeter):
    for _ in range(3):
        issue(hall, by=greeter)
    assert estimates.board_cached(hall_id=hall.pk) is None


# With a worker (production): the streams' tickers only ask, the worker's task computes once
# and sends one pre-encoded board to the hall's group. Eager Celery runs the task in the test.


@pytest.fixture
def board_worker(settings):
    settings.DISPLAY_BOARD_WORKER = True


async def test_with_a_worker_every_stream_gets_its_board_through_the_hall_group(
    hall, display_device, greeter, streams, board_worker
):
    lobbies = [await streams.lobby(display_device) for _ in range(2)]
    await act(issue, hall, by=greeter)
    await act(issue, hall, by=greeter)
    for lobby in lobbies:
        events, boards = await boards_for(lobby, MIN_INTERVAL + 1.5)
        assert [e["seq"] for e in events] == [1, 2]
        assert boards, "no board came from the worker's task"
        assert all(b["seq"] in (1, 2) for b in boards)  # the stream's own seq spliced in
        assert {b["code"]: b["waiting"] for b in boards[-1]["business_types"]}["payment"] == 2
    kept = await act(board_kept, hall.pk)
    assert kept.seq == 2


def test_the_worker_computes_a_board_once_per_seq(hall, greeter, board_worker):
    issue(hall, by=greeter)
    assert board_refresh(hall.pk) is True
    kept = board_kept(hall.pk)
    assert kept.seq == 1

    # Another ASGI process's ticker asking after the same event: nothing computed, nothing sent.
    assert board_refresh(hall.pk) is False
    assert board_kept(hall.pk) == kept

    issue(hall, by=greeter)
    assert board_refresh(hall.pk) is True
    assert board_kept(hall.pk).seq == 2


def test_a_snapshot_takes_the_kept_board_only_when_it_may(hall, greeter, settings):
    issue(hall, by=greeter)
    board_compute(hall.pk)
    assert board_latest(hall_id=hall.pk, seq=1) == board_kept(hall.pk).business_types

    issue(hall, by=greeter)  # seq 2: the kept board is of seq 1
    assert board_latest(hall_id=hall.pk, seq=2) is None  # no worker: forecast for the snapshot
    settings.DISPLAY_BOARD_WORKER = True  # a worker's fresher board is on its way: show the kept
    assert board_latest(hall_id=hall.pk, seq=2) == board_kept(hall.pk).business_types
    settings.DISPLAY_BOARD_REFRESH_SECONDS = 0.001  # but never one older than the refresh
    time.sleep(0.01)
    assert board_latest(hall_id=hall.pk, seq=2) is None


async def test_a_thousand_resyncs_cost_no_forecast_when_the_board_is_current(
    hall, display_device, greeter, streams, monkeypatch
):
    await act(issue, hall, by=greeter)
    await act(board_compute, hall.pk)

    def no_forecast(**kwargs):
        raise AssertionError("the snapshot forecast although a current board was kept")

    monkeypatch.setattr(display.selectors, "business_type_board", no_forecast)
    lobby = await streams.lobby(display_device)
    assert {b["code"]: b["waiting"] for b in lobby.snapshot["business_types"]}["payment"] == 1
