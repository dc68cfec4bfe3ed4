"""System faults on the displays: the snapshot (stream and API) carries the open incidents, the
lobby hears every incident event, and a counter display hears those of incidents affecting a
business type it serves (and only those), without its own seq moving."""

import asyncio

import pytest
from django.urls import reverse

from counters.models import Counter
from counters.services import counter_call_next, counter_open, counter_recall
from hall.models import BusinessType, IncidentMode
from recovery.incidents import incident_acknowledge, incident_open, incident_resolve
from tests.conftest import counter
from tests.display.conftest import act, event, frame
from tests.factories import issue


def open_fault(hall, who, *codes, mode=IncidentMode.UNAVAILABLE, kind="billing"):
    types = list(BusinessType.objects.filter(hall=hall, code__in=codes)) if codes else None
    return incident_open(hall=hall, kind=kind, reporter=who, business_types=types, mode=mode)


@pytest.mark.django_db
def test_the_snapshot_api_lists_open_incidents_until_resolved(api, hall, display_device, manager):
    fault = open_fault(hall, manager, "service")
    url = reverse("snapshot", args=["h1"])

    incidents = api.as_device(display_device).get(url).json()["incidents"]

    assert len(incidents) == 1
    shown = incidents[0]
    assert shown["id"] == fault.pk
    assert shown["business_types"] == ["service"]
    assert shown["mode"] == "unavailable"
    assert shown["apology_zh"] == fault.apology_zh and shown["apology_en"] == fault.apology_en
    assert shown["resolved_at"] is None
    assert "reporter" not in shown and "description" not in shown  # customers see the apology

    incident_resolve(incident_id=fault.pk, user=manager)

    assert api.get(url).json()["incidents"] == []


@pytest.mark.django_db
def test_an_incident_for_every_business_shows_with_null_business_types(
    api, hall, display_device, clerk_a
):
    open_fault(hall, clerk_a, mode=IncidentMode.WARN, kind="network")

    (shown,) = (
        api.as_device(display_device).get(reverse("snapshot", args=["h1"])).json()["incidents"]
    )

    assert shown["business_types"] is None
    assert shown["mode"] == "warn"
    assert "网络" in shown["apology_zh"]


@pytest.mark.django_db(transaction=True)
async def test_the_lobby_hears_opened_acknowledged_and_resolved(
    hall, display_device, manager, streams
):
    lobby = await streams.lobby(display_device)
    assert lobby.snapshot["incidents"] == []

    fault = await act(open_fault, hall, manager, "payment")
    opened = await event(lobby)
    await act(incident_acknowledge, incident_id=fault.pk, by="", user=manager)
    acknowledged = await event(lobby)
    await act(incident_resolve, incident_id=fault.pk, user=manager)
    resolved = await event(lobby)

    assert [opened["type"], acknowledged["type"], resolved["type"]] == [
        "incident.opened",
        "incident.acknowledged",
        "incident.resolved",
    ]
    assert opened["seq"] == lobby.snapshot["seq"] + 1
    assert opened["incident"]["id"] == fault.pk
    assert opened["incident"]["apology_zh"] == fault.apology_zh
    assert acknowledged["incident"]["acknowledged_at"] is not None
    assert resolved["incident"]["resolved_at"] is not None
    assert resolved["duration_s"] >= 0


@pytest.mark.django_db(transaction=True)
async def test_a_counter_display_hears_only_incidents_of_its_business(
    hall, display_device, greeter, clerk_a, manager, streams
):
    # Counter 1 serves payment and top-up; counter 4 serves service applications only.
    c1, c4 = await act(counter, hall, 1), await act(counter, hall, 4)
    await act(issue, hall, by=greeter)
    await act(counter_open, counter_id=c1.pk, user=clerk_a)
    await act(counter_call_next, counter_id=c1.pk, user=clerk_a)
    one = await streams.counter(c1, display_device)
    four = await streams.counter(c4, display_device)
    own_seq = one.snapshot["seq"]

    fault = await act(open_fault, hall, manager, "topup")
    heard = await event(one)

    assert heard["type"] == "incident.opened"
    assert heard["incident"]["id"] == fault.pk
    # The frame says which of the counter's own events came before it (no gap) ...
    assert heard["prev_seq"] == own_seq
    # ... and still shows the counter as it is: serving A001.
    state = next(c for c in heard["counters"] if c["id"] == c1.pk)
    assert state["current"]["number"] == "A001"
    assert await four.receive_nothing(0.3)
    # The counter's own seq does not move: an incident takes no hall lock and writes no
    # counter row (display/publisher.py).
    assert await act(lambda: Counter.objects.get(pk=c1.pk).last_event_seq) == own_seq

    # Reconnecting, counter 1's snapshot carries the apology, counter 4's does not.
    again = await streams.counter(c1, display_device)
    four_again = await streams.counter(c4, display_device)
    assert [i["id"] for i in again.snapshot["incidents"]] == [fault.pk]
    assert four_again.snapshot["incidents"] == []

    await act(incident_resolve, incident_id=fault.pk, user=manager)
    assert (await event(one))["type"] == "incident.resolved"
    # The next own event of the counter follows on, no gap, no resync.
    await act(counter_recall, counter_id=c1.pk, user=clerk_a)
    after = await event(one)
    assert after["type"] == "ticket.recalled"
    assert after["prev_seq"] == own_seq


@pytest.mark.django_db(transaction=True)
async def test_an_incident_for_every_business_reaches_every_counter(
    hall, display_device, clerk_a, streams
):
    screens = [await streams.counter(await act(counter, hall, n), display_device) for n in (1, 4)]

    await act(open_fault, hall, clerk_a)

    for screen in screens:
        assert (await event(screen))["type"] == "incident.opened"


@pytest.mark.django_db
def test_the_displays_carry_the_incident_labels_and_the_counters_business(
    client, hall, display_device
):
    lobby = client.get(reverse("display:lobby", args=["h1"]) + f"?token={display_device.token}")
    labels = lobby.context["config"]["labels"]
    assert labels["incident"] == {"zh": labels["incident"]["zh"], "en": "System fault"}
    assert labels["voice_restored"]["en"].startswith("The system has been restored")
    assert "data-incidents" in lobby.content.decode()

    c1 = counter(hall, 1)
    page = client.get(
        reverse("display:counter", args=[hall.code, c1.number]) + f"?token={display_device.token}"
    )
    assert sorted(page.context["config"]["business_types"]) == ["payment", "topup"]
    assert "data-counter-incident" in page.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lost", ["incident.opened", "incident.resolved"])
async def test_a_lost_incident_frame_is_caught_by_the_counters_heartbeat(
    hall, display_device, clerk_a, manager, streams, settings, lose_next_publish, lost
):
    # An incident frame leaves the counter's own seq alone, so its loss makes no gap: the
    # heartbeat compares the apologies shown with the open incidents instead.
    settings.DISPLAY_HEARTBEAT_SECONDS = 0.05
    c1 = await act(counter, hall, 1)
    if lost == "incident.resolved":
        fault = await act(open_fault, hall, manager, "payment")
    one = await streams.counter(c1, display_device)

    lose_next_publish()
    if lost == "incident.opened":
        fault = await act(open_fault, hall, manager, "payment")
        shown = [fault.pk]
    else:
        await act(incident_resolve, incident_id=fault.pk, user=manager)
        shown = []
    assert lose_next_publish.lost

    async with asyncio.timeout(3):
        while (got := await frame(one))["type"] == "heartbeat":
            pass
    assert got["type"] == "snapshot"
    assert [i["id"] for i in got["incidents"]] == shown
    assert got["seq"] == one.snapshot["seq"]  # the counter's own seq, unmoved


@pytest.mark.django_db(transaction=True)
async def test_an_incident_of_another_business_costs_a_counter_no_resync(
    hall, display_device, manager, streams, settings
):
    settings.DISPLAY_HEARTBEAT_SECONDS = 0.05
    c4 = await act(counter, hall, 4)  # service applications only
    four = await streams.counter(c4, display_device)

    await act(open_fault, hall, manager, "payment")

    for _ in range(4):
        assert (await frame(four))["type"] == "heartbeat"
