"""Metric snapshots: Celery beat stores each open hall's wall metrics every 5 minutes, once per
5-minute slot, for the history."""

import datetime

import pytest
import time_machine
from django.conf import settings

from counters.services import counter_call_next, counter_open
from display.models import MetricsSnapshot
from display.tasks import snapshot_metrics_all_halls, snapshot_metrics_for_hall
from display.wall.snapshots import metrics_snapshot_take, snapshot_slot
from hall.models import AuditEvent
from tests.conftest import counter
from tests.factories import OFFICE_HOURS, issue, payment_hall

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
AT_10_07 = datetime.datetime(2026, 3, 2, 10, 7, 42, tzinfo=SHANGHAI)


def test_a_snapshot_slot_is_the_time_rounded_down_to_five_minutes():
    assert snapshot_slot(AT_10_07) == datetime.datetime(2026, 3, 2, 2, 5, tzinfo=datetime.UTC)
    on_the_mark = datetime.datetime(2026, 3, 2, 10, 10, tzinfo=SHANGHAI)
    assert snapshot_slot(on_the_mark) == on_the_mark
    kathmandu = datetime.timezone(datetime.timedelta(hours=5, minutes=45))
    assert snapshot_slot(datetime.datetime(2026, 3, 2, 9, 59, tzinfo=kathmandu)).minute % 5 == 0


def test_a_snapshot_stores_the_walls_metrics_in_its_slot(hall, greeter, clerk_a):
    with time_machine.travel(AT_10_07, tick=False):
        issue(hall, by=greeter)
        issue(hall, by=greeter)
        counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
        counter_call_next(counter_id=counter(hall, 1).pk, user=clerk_a)
        events = AuditEvent.objects.count()
        snapshot = metrics_snapshot_take(hall=hall)
    snapshot.refresh_from_db()
    assert snapshot.slot == datetime.datetime(2026, 3, 2, 10, 5, tzinfo=SHANGHAI)
    assert snapshot.service_date == datetime.date(2026, 3, 2)
    assert snapshot.taken_at == AT_10_07
    assert snapshot.data["hall"] == "h1"
    assert snapshot.data["waiting"]["total"] == 1
    assert snapshot.data["today"]["issued"] == 2
    assert snapshot.data["counters"]["serving"] == 1
    assert AuditEvent.objects.count() == events  # derived history: no event, nothing published


def test_taking_a_snapshot_twice_in_one_slot_stores_one(hall, django_assert_num_queries):
    with time_machine.travel(AT_10_07, tick=False):
        first = metrics_snapshot_take(hall=hall)
    later_in_the_slot = AT_10_07 + datetime.timedelta(minutes=2)
    with (
        time_machine.travel(later_in_the_slot, tick=False),
        django_assert_num_queries(1),  # the slot is taken: nothing is computed
    ):
        assert metrics_snapshot_take(hall=hall) is None
    next_slot = AT_10_07 + datetime.timedelta(minutes=3)
    with time_machine.travel(next_slot, tick=False):
        second = metrics_snapshot_take(hall=hall)
    assert second.slot - first.slot == datetime.timedelta(minutes=5)
    assert MetricsSnapshot.objects.filter(hall=hall).count() == 2


def test_the_unique_slot_holds_when_two_workers_take_the_same_snapshot(hall, monkeypatch):
    """Both passed the check before either stored: the second insert is dropped quietly."""
    with time_machine.travel(AT_10_07, tick=False):
        metrics_snapshot_take(hall=hall)
        monkeypatch.setattr(
            "display.wall.snapshots.MetricsSnapshot.objects.filter",
            lambda **kw: MetricsSnapshot.objects.none(),
        )
        assert metrics_snapshot_take(hall=hall) is None
    monkeypatch.undo()
    assert MetricsSnapshot.objects.filter(hall=hall).count() == 1


def test_beat_snapshots_the_open_halls_only_and_a_rerun_adds_nothing(hall):
    shop = payment_hall("shop", "营业时间营业厅", hours=OFFICE_HOURS)  # 08:30-18:00
    evening = datetime.datetime(2026, 3, 2, 20, 1, tzinfo=SHANGHAI)
    with time_machine.travel(evening, tick=False):
        assert snapshot_metrics_all_halls.delay().get() == 1  # h1 is open all day
        assert snapshot_metrics_all_halls.delay().get() == 1  # queued again: stored once
    with time_machine.travel(AT_10_07, tick=False):
        assert snapshot_metrics_all_halls.delay().get() == 2
    stored = sorted(MetricsSnapshot.objects.values_list("hall__code", "slot"))
    assert [code for code, _slot in stored] == ["h1", "h1", "shop"]
    assert MetricsSnapshot.objects.filter(hall=shop).get().service_date == AT_10_07.date()
    assert snapshot_metrics_for_hall.delay(999999).get() is False  # a deleted hall: nothing


def test_beat_runs_the_snapshot_every_five_minutes_on_the_clock():
    entry = settings.CELERY_BEAT_SCHEDULE["snapshot-metrics"]
    assert entry["task"] == "display.tasks.snapshot_metrics_all_halls"
    assert entry["schedule"].minute == set(range(0, 60, 5))


@pytest.mark.django_db
def test_the_snapshot_task_is_registered_with_celery():
    from config.celery import app

    app.loader.import_default_modules()
    assert "display.tasks.snapshot_metrics_all_halls" in app.tasks
    assert "display.tasks.snapshot_metrics_for_hall" in app.tasks
