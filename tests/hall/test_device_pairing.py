"""Pairing a device with a one-time code (hall.pairing, issue 17): a code works once, for ten
minutes, in its own hall and for its own kind of device; guessing is throttled; every code and
pairing is audited, and a refused code changes nothing."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from hall.auth import device_for_token
from hall.models import AuditEvent, Device, DevicePairing, EventKind, PairingAttempt
from hall.pairing import (
    ADDRESS_FAILURES_ALLOWED,
    CODE_ALPHABET,
    CODE_LENGTH,
    HALL_FAILURES_ALLOWED,
    PairingCodeOtherKind,
    PairingCodeWrong,
    PairingThrottled,
    device_link_make,
    device_pair,
    device_pairing_start,
)

pytestmark = pytest.mark.django_db

ADDRESS = "10.0.0.7"


def pair(hall, code, *, kind="kiosk", address=ADDRESS):
    return device_pair(hall=hall, kind=kind, code=code, address=address, page="/kiosk/h1/")


def test_the_code_is_short_and_easy_to_type(hall, kiosk, manager):
    _, code = device_pairing_start(device=kiosk, by=manager)
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(CODE_ALPHABET)
    assert not set(code) & set("01OIL")


def test_the_right_code_gives_the_browser_a_fresh_token_and_the_old_one_stops(hall, kiosk, manager):
    _, code = device_pairing_start(device=kiosk, by=manager)
    device, token = pair(hall, code)
    assert device.pk == kiosk.pk
    assert device_for_token(token).pk == kiosk.pk
    assert device_for_token(kiosk.token) is None  # one device, one screen
    attempt = PairingAttempt.objects.get()
    assert (attempt.paired, attempt.outcome, attempt.address) == (True, "paired", ADDRESS)


def test_the_code_is_typed_as_people_type_it(hall, kiosk, manager):
    _, code = device_pairing_start(device=kiosk, by=manager)
    device, _ = pair(hall, f" {code[:3].lower()}-{code[3:].lower()} ")
    assert device.pk == kiosk.pk


def test_a_code_works_once(hall, kiosk, manager):
    _, code = device_pairing_start(device=kiosk, by=manager)
    _, token = pair(hall, code)
    with pytest.raises(PairingCodeWrong):
        pair(hall, code)
    assert device_for_token(token).pk == kiosk.pk  # the second try took nothing away


def test_a_code_expires_after_ten_minutes_and_changes_nothing(hall, kiosk, manager):
    _, code = device_pairing_start(device=kiosk, by=manager)
    hash_before = Device.objects.get(pk=kiosk.pk).token_hash
    later = timezone.now() + datetime.timedelta(minutes=10, seconds=1)
    with time_machine.travel(later, tick=False), pytest.raises(PairingCodeWrong) as refused:
        pair(hall, code)
    assert refused.value.status_code == 400
    assert "已过期" in str(refused.value.message)  # Chinese, the default: "expired"
    assert Device.objects.get(pk=kiosk.pk).token_hash == hash_before
    assert device_for_token(kiosk.token).pk == kiosk.pk
    assert not AuditEvent.objects.filter(kind=EventKind.DEVICE_PAIRED).exists()
    assert PairingAttempt.objects.get().outcome == "wrong"


def test_a_code_still_works_just_before_it_expires(hall, kiosk, manager):
    _, code = device_pairing_start(device=kiosk, by=manager)
    later = timezone.now() + datetime.timedelta(minutes=9, seconds=50)
    with time_machine.travel(later, tick=False):
        assert pair(hall, code)[0].pk == kiosk.pk


def test_a_new_code_withdraws_the_one_before(hall, kiosk, manager):
    _, first = device_pairing_start(device=kiosk, by=manager)
    _, second = device_pairing_start(device=kiosk, by=manager)
    with pytest.raises(PairingCodeWrong):
        pair(hall, first)
    assert pair(hall, second)[0].pk == kiosk.pk


def test_a_code_of_another_hall_is_refused_there_and_still_works_at_home(
    hall, other_hall, kiosk, manager
):
    _, code = device_pairing_start(device=kiosk, by=manager)
    with pytest.raises(PairingCodeWrong):
        device_pair(hall=other_hall, kind="kiosk", code=code, address=ADDRESS)
    assert device_for_token(kiosk.token).pk == kiosk.pk
    assert pair(hall, code)[0].pk == kiosk.pk


def test_a_kiosks_code_does_not_make_a_display_and_is_not_spent(hall, kiosk, manager):
    _, code = device_pairing_start(device=kiosk, by=manager)
    with pytest.raises(PairingCodeOtherKind):
        pair(hall, code, kind="display")
    assert DevicePairing.objects.get().used_at is None
    assert pair(hall, code)[0].pk == kiosk.pk


def test_a_disabled_devices_code_is_refused(hall, kiosk, manager):
    _, code = device_pairing_start(device=kiosk, by=manager)
    Device.objects.filter(pk=kiosk.pk).update(active=False)
    with pytest.raises(PairingCodeWrong):
        pair(hall, code)


def test_guessing_from_one_address_is_throttled_even_with_the_right_code_next(hall, kiosk, manager):
    _, code = device_pairing_start(device=kiosk, by=manager)
    for _ in range(ADDRESS_FAILURES_ALLOWED):
        with pytest.raises(PairingCodeWrong):
            pair(hall, "AAAAAA")
    with pytest.raises(PairingThrottled) as refused:
        pair(hall, code)
    assert refused.value.status_code == 429
    assert DevicePairing.objects.get().used_at is None  # the code was not looked at
    assert pair(hall, code, address="10.0.0.8")[0].pk == kiosk.pk  # another browser may
    later = timezone.now() + datetime.timedelta(minutes=11)
    with time_machine.travel(later, tick=False):
        _, fresh = device_pairing_start(device=kiosk, by=manager)
        assert pair(hall, fresh)[0].pk == kiosk.pk  # the throttle forgets after ten minutes


def test_guessing_across_a_hall_from_many_addresses_is_throttled_too(hall, kiosk, manager):
    _, code = device_pairing_start(device=kiosk, by=manager)
    for n in range(HALL_FAILURES_ALLOWED):
        with pytest.raises(PairingCodeWrong):
            pair(hall, "AAAAAA", address=f"10.1.{n // 200}.{n % 200}")
    with pytest.raises(PairingThrottled):
        pair(hall, code, address="10.9.9.9")


def test_codes_and_pairings_are_audited_without_the_secret(hall, kiosk, manager):
    _, code = device_pairing_start(device=kiosk, by=manager)
    _, token = pair(hall, code)
    made = AuditEvent.objects.get(kind=EventKind.DEVICE_PAIRING_CODE)
    paired = AuditEvent.objects.get(kind=EventKind.DEVICE_PAIRED)
    assert (made.actor, made.device_id) == (manager, kiosk.pk)
    assert (paired.actor, paired.device_id) == (manager, kiosk.pk)
    assert paired.data["page"] == "/kiosk/h1/"
    for event in (made, paired):
        assert code not in str(event.data) and token not in str(event.data)


def test_a_set_up_link_replaces_the_token_and_is_audited(hall, display_device, manager):
    token = device_link_make(device=display_device, by=manager)
    assert device_for_token(token).pk == display_device.pk
    assert device_for_token(display_device.token) is None
    event = AuditEvent.objects.get(kind=EventKind.DEVICE_LINK_MADE)
    assert (event.actor, event.device_id) == (manager, display_device.pk)
