"""Thin Celery tasks: the lobby's board (display/board.py) and the wall's history. Each is
idempotent (a board already current is not computed again; one snapshot per hall and 5-minute
slot: display/wall/snapshots.py)."""

from celery import shared_task

from display.board import board_refresh
from display.wall.snapshots import metrics_snapshot_take, open_hall_ids
from hall.models import Hall


@shared_task(ignore_result=True, acks_late=False)
def refresh_board(hall_id: int) -> bool:
    """Asked by the hall streams' board tickers after events (display.consumers): compute the
    hall's board once and send it to the hall's group. Not acked late: a board lost with a
    crashed worker is replaced by the next event's or the next refresh's."""
    return board_refresh(hall_id)


@shared_task(acks_late=True)
def snapshot_metrics_for_hall(hall_id: int) -> bool:
    """True if a snapshot was stored; False if the slot had one or the hall is gone."""
    hall = Hall.objects.filter(pk=hall_id).first()
    return hall is not None and metrics_snapshot_take(hall=hall) is not None


@shared_task
def snapshot_metrics_all_halls() -> int:
    """Beat, every 5 minutes: one task per open hall, so a thousand halls spread over the
    workers. Returns the number of halls queued."""
    hall_ids = open_hall_ids()
    for hall_id in hall_ids:
        snapshot_metrics_for_hall.delay(hall_id)
    return len(hall_ids)
