"""Incidents (系统故障): the apology everywhere it shows, the live event, who answers for it,
acknowledging once, resolving with its duration and the customers it affected."""

# ruff: noqa: F811 (the fixtures imported from incident_fixtures are redefined as arguments)

import datetime
import json

import pytest
import time_machine

from counters.models import Counter
from display.events import event_message
from display.publisher import encode
from hall.errors import Forbidden, InvalidInput
from hall.models import (
    ApologyPlace,
    ApologyRecord,
    AuditEvent,
    BusinessType,
    Department,
    EventKind,
    Incident,
    IncidentMode,
)
from queueing.models import Status, Ticket
from queueing.services import ticket_transfer
from recovery.incidents import (
    IncidentAlreadyResolved,
    incident_acknowledge,
    incident_open,
    incident_resolve,
)
from recovery.models import DepartmentRoute
from tests.factories import issue
from tests.recovery.incident_fixtures import at, billing_team, webhook  # noqa: F401

pytestmark = pytest.mark.django_db


def bt(hall, code):
    return BusinessType.objects.get(hall=hall, code=code)


def counter_number(counter_id):
    return Counter.objects.get(pk=counter_id).number


def test_a_fault_on_top_up_apologises_in_the_lobby_kiosk_status_page_and_at_its_counters(
    hall, clerk_a
):
    incident = incident_open(
        hall=hall,
        kind="billing",
        reporter=clerk_a,
        business_types=[bt(hall, "topup")],
        mode=IncidentMode.UNAVAILABLE,
    )

    assert incident.apology_zh == (
        "非常抱歉,营业系统暂时故障,预存业务暂停办理,我们已通知相关部门尽快处理。"
    )
    assert "Top-up suspended" in incident.apology_en
    shown = ApologyRecord.objects.filter(incident=incident, withdrawn_at__isnull=True)
    assert {a.place for a in shown} == {
        ApologyPlace.LOBBY,
        ApologyPlace.KIOSK,
        ApologyPlace.STATUS_PAGE,
        ApologyPlace.COUNTER,
    }
    # Counters 1 and 3 serve top-up; 2 and 4 do not.
    at_counters = shown.filter(place=ApologyPlace.COUNTER).values_list("counter_id", flat=True)
    assert sorted(counter_number(c) for c in at_counters) == [1, 3]
    assert all(a.text_zh == incident.apology_zh for a in shown)


def test_a_fault_of_every_business_uses_the_standard_phrase_and_reaches_every_counter(
    hall, manager
):
    incident = incident_open(hall=hall, kind="other", reporter=manager)

    assert incident.affects_all
    assert incident.apology_zh == "非常抱歉,系统暂时故障,我们已通知相关部门尽快处理。"
    counters = ApologyRecord.objects.filter(incident=incident, place=ApologyPlace.COUNTER)
    assert sorted(counter_number(a.counter_id) for a in counters) == [1, 2, 3, 4]


def test_opening_writes_one_live_event_carrying_the_public_incident(hall, clerk_a):
    before = AuditEvent.objects.count()
    incident = incident_open(
        hall=hall, kind="printer", reporter=clerk_a, business_types=[bt(hall, "service")]
    )

    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(kind=EventKind.INCIDENT_OPENED)
    assert event.seq is not None and event.actor == clerk_a
    assert event.data["incident"]["id"] == incident.pk
    assert event.data["incident"]["business_types"] == ["service"]
    # What a lobby display receives: the incident, with nothing about the reporter.
    message = json.loads(encode(event_message(event, ticket=None, counters=[])))
    assert message["type"] == "incident.opened"
    assert message["incident"]["apology_zh"] == incident.apology_zh
    assert "clerk_a" not in json.dumps(message)


def test_the_halls_own_route_wins_over_the_operator_wide_one(hall, other_hall, clerk_a):
    everywhere = Department.objects.create(name="省网络中心")
    local = Department.objects.create(name="本厅网络组")
    DepartmentRoute.objects.create(department=everywhere, kind="network")
    DepartmentRoute.objects.create(department=local, kind="network", hall=hall)

    incident = incident_open(hall=hall, kind="network", reporter=clerk_a)

    assert incident.department == local


def test_without_a_route_nobody_is_scheduled_to_be_told(hall, clerk_a, webhook):
    incident = incident_open(hall=hall, kind="power", reporter=clerk_a)

    assert incident.department is None and incident.next_notify_at is None
    assert webhook.requests == []


@pytest.mark.parametrize("who", ["greeter", "outsider"])
def test_only_the_halls_clerks_and_managers_may_report_a_fault(hall, who, request):
    person = request.getfixturevalue(who)
    with pytest.raises(Forbidden):
        incident_open(hall=hall, kind="billing", reporter=person)
    assert not Incident.objects.exists()
    assert not ApologyRecord.objects.exists()
    assert not AuditEvent.objects.filter(kind=EventKind.INCIDENT_OPENED).exists()


def test_a_business_type_of_another_hall_is_refused(hall, other_hall, clerk_a):
    with pytest.raises(InvalidInput):
        incident_open(
            hall=hall, kind="billing", reporter=clerk_a, business_types=[bt(other_hall, "payment")]
        )
    assert not Incident.objects.exists()


def test_acknowledging_twice_keeps_the_first_and_records_one_event(hall, clerk_a, billing_team):
    incident = incident_open(hall=hall, kind="billing", reporter=clerk_a)
    assert incident.next_notify_at is not None

    first = incident_acknowledge(incident_id=incident.pk, by="计费值班 王工")
    second = incident_acknowledge(incident_id=incident.pk, by="someone else")

    assert first.acknowledged_by == second.acknowledged_by == "计费值班 王工"
    assert second.acknowledged_at == first.acknowledged_at
    assert second.next_notify_at is None
    events = AuditEvent.objects.filter(kind=EventKind.INCIDENT_ACKNOWLEDGED)
    assert events.count() == 1
    assert events.get().data["incident"]["acknowledged_at"] is not None


def test_resolving_withdraws_the_apologies_and_records_duration_and_affected(hall, clerk_a):
    with time_machine.travel(at(10), tick=False) as clock:
        incident = incident_open(hall=hall, kind="billing", reporter=clerk_a)
        issue(hall, "payment", by=clerk_a)
        clock.move_to(at(10, 42, 30))
        resolved = incident_resolve(incident_id=incident.pk, user=clerk_a, resolution="重启计费")

    assert resolved.resolved_at == at(10, 42, 30) and resolved.resolved_by == clerk_a
    assert resolved.affected_customers == 1
    assert not ApologyRecord.objects.filter(incident=incident, withdrawn_at__isnull=True).exists()
    event = AuditEvent.objects.get(kind=EventKind.INCIDENT_RESOLVED)
    assert event.data["duration_s"] == 42 * 60 + 30
    assert event.data["affected_customers"] == 1
    message = event_message(event, ticket=None, counters=[])
    assert message["duration_s"] == 2550 and message["incident"]["resolved_at"] is not None


def test_resolving_twice_is_refused_and_changes_nothing(hall, clerk_a, manager):
    incident = incident_open(hall=hall, kind="billing", reporter=clerk_a)
    incident_resolve(incident_id=incident.pk, user=clerk_a)
    events = AuditEvent.objects.count()

    with pytest.raises(IncidentAlreadyResolved) as refused:
        incident_resolve(incident_id=incident.pk, user=manager, resolution="again")

    assert refused.value.status_code == 409
    incident.refresh_from_db()
    assert incident.resolved_by == clerk_a and incident.resolution == ""
    assert AuditEvent.objects.count() == events


def test_a_greeter_may_not_resolve(hall, clerk_a, greeter):
    incident = incident_open(hall=hall, kind="billing", reporter=clerk_a)
    with pytest.raises(Forbidden):
        incident_resolve(incident_id=incident.pk, user=greeter)
    incident.refresh_from_db()
    assert incident.resolved_at is None


def _finish(ticket, status, at_time):
    Ticket.objects.filter(pk=ticket.pk).update(
        status=status, finished_at=at_time, window_counter=None, window_slot=None
    )


def test_affected_customers_are_the_tickets_waiting_or_served_in_affected_types_meanwhile(
    hall, greeter, clerk_a
):
    """The incident on bill payment runs 10:00-11:00. A hand-built history around it."""
    with time_machine.travel(at(9), tick=False) as clock:
        done_before = issue(hall, "payment", by=greeter)  # served and gone at 09:30: no
        clock.move_to(at(9, 40))
        moved_out_before = issue(hall, "payment", by=greeter)  # top-up from 09:55: no
        clock.move_to(at(9, 50))
        waiting_through = issue(hall, "payment", by=greeter)  # waits past 10:00: yes
        clock.move_to(at(9, 55))
        ticket_transfer(ticket=moved_out_before, business_type_code="topup", actor=greeter)
        clock.move_to(at(9, 56))
        cancelled_before = issue(hall, "payment", by=greeter)  # left at 09:58: no
        no_show = issue(hall, "payment", by=greeter)  # called, no-show at 10:05: yes
        _finish(done_before, Status.DONE, at(9, 30))
        _finish(cancelled_before, Status.CANCELLED, at(9, 58))

        clock.move_to(at(10))
        payment_fault = incident_open(
            hall=hall, kind="billing", reporter=clerk_a, business_types=[bt(hall, "payment")]
        )
        everything = incident_open(hall=hall, kind="network", reporter=clerk_a)

        clock.move_to(at(10, 2))
        moved_out_during = issue(hall, "payment", by=greeter)  # payment until 10:40: yes
        clock.move_to(at(10, 10))
        moved_in = issue(hall, "topup", by=greeter)  # payment from 10:30: yes
        clock.move_to(at(10, 15))
        top_up_only = issue(hall, "topup", by=greeter)  # never payment: no
        clock.move_to(at(10, 30))
        ticket_transfer(ticket=moved_in, business_type_code="payment", actor=greeter)
        clock.move_to(at(10, 40))
        ticket_transfer(ticket=moved_out_during, business_type_code="topup", actor=greeter)
        clock.move_to(at(10, 50))
        serving = issue(hall, "payment", by=greeter)  # being served at 11:00: yes
        Ticket.objects.filter(pk=serving.pk).update(
            status=Status.SERVING, counter=Counter.objects.get(hall=hall, number=2)
        )
        _finish(waiting_through, Status.DONE, at(10, 20))
        _finish(no_show, Status.NO_SHOW, at(10, 5))
        issue(hall, "payment", by=greeter, at=at(11, 30))  # after the resolution: no

        clock.move_to(at(11))
        payment_fault = incident_resolve(incident_id=payment_fault.pk, user=clerk_a)
        everything = incident_resolve(incident_id=everything.pk, user=clerk_a)

    # waiting_through, no_show, moved_out_during, moved_in, serving
    assert payment_fault.affected_customers == 5
    # ... plus moved_out_before and top_up_only, both waiting during it
    assert everything.affected_customers == 7
    assert top_up_only.pk and cancelled_before.pk  # built, and rightly not counted
    assert AuditEvent.objects.get(
        kind=EventKind.INCIDENT_RESOLVED, data__incident__id=payment_fault.pk
    ).data["duration_s"] == int(datetime.timedelta(hours=1).total_seconds())
