"""``seed_demo`` builds DESIGN.md's demo hall, idempotently; ``device_token`` registers devices."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from counters.models import Counter, CounterKind, VipMode
from hall.auth import device_for_token, hash_token
from hall.models import (
    BusinessType,
    Device,
    DeviceKind,
    Hall,
    IncidentKind,
    LaneSetting,
    Role,
    StaffMembership,
)
from queueing.router import DEFAULT_WEIGHTS
from recovery.incidents import incident_open
from recovery.models import DepartmentRoute

STANDARD_BUSINESS = {"payment", "topup", "service", "cards", "consult", "query", "complaint"}
DEMO_USERS = {"manager", "greeter", *(f"clerk{n}" for n in range(1, 9))}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def printed_tokens(output: str) -> dict:
    return {
        kind: re.search(rf"{kind.capitalize()} device token\s+(\S+)", output).group(1)
        for kind in ("kiosk", "display")
    }


def everything_in_the_demo_hall() -> dict:
    hall = Hall.objects.get(code="demo")
    return {
        "halls": Hall.objects.count(),
        "business_types": sorted(
            BusinessType.objects.filter(hall=hall).values_list("code", "prefix")
        ),
        "counters": sorted(
            (c.number, c.kind, c.vip_mode, tuple(sorted(c.business_types.values_list("code"))))
            for c in Counter.objects.filter(hall=hall)
        ),
        "users": sorted(get_user_model().objects.values_list("username", flat=True)),
        "memberships": sorted(
            StaffMembership.objects.filter(hall=hall).values_list("user__username", "role")
        ),
        "lanes": sorted(LaneSetting.objects.filter(hall=hall).values_list("lane", "weight")),
        "active_devices": sorted(
            Device.objects.filter(hall=hall, active=True).values_list("kind", flat=True)
        ),
    }


@pytest.mark.django_db
def test_seed_demo_creates_the_demo_hall_of_the_design():
    seed()
    hall = Hall.objects.get(code="demo")
    assert (hall.name, hall.timezone) == ("示范营业厅", "Asia/Shanghai")
    assert hall.open_all_day  # the demo works at any hour
    assert {s.lane: s.weight for s in LaneSetting.objects.filter(hall=hall)} == {
        lane: int(weight) for lane, weight in DEFAULT_WEIGHTS.items()
    }


@pytest.mark.django_db
def test_the_demo_has_the_standard_business_types_with_distinct_prefixes():
    seed()
    types = list(BusinessType.objects.filter(hall__code="demo", active=True))
    assert {bt.code for bt in types} >= STANDARD_BUSINESS
    prefixes = [bt.prefix for bt in types]
    assert len(prefixes) == len(set(prefixes))
    assert all(re.fullmatch(r"[A-Z]{1,2}", p) for p in prefixes)
    assert {bt.code: bt.prefix for bt in types}["payment"] == "A"
    assert all(bt.name_zh and bt.name_en and bt.expected_service_minutes > 0 for bt in types)
    # Every business type is served somewhere, so every kiosk button issues a ticket.
    assert all(bt.counters.exists() for bt in types)


@pytest.mark.django_db
def test_the_demo_has_eight_counters_six_general_one_vip_one_express_payment():
    seed()
    counters = {c.number: c for c in Counter.objects.filter(hall__code="demo")}
    assert sorted(counters) == list(range(1, 9))
    general = [counters[n] for n in range(1, 7)]
    assert all(c.kind == CounterKind.GENERAL for c in general)
    assert all(c.vip_mode == VipMode.NONE for c in general)
    skills = [frozenset(c.business_types.values_list("code", flat=True)) for c in general]
    assert len(set(skills)) > 1, "general counters have mixed skills"
    assert all(len(s) >= 2 for s in skills)
    vip = counters[7]
    assert (vip.kind, vip.vip_mode) == (CounterKind.VIP, VipMode.VIP_FIRST)
    express = counters[8]
    assert express.kind == CounterKind.EXPRESS
    assert "payment" in express.business_types.values_list("code", flat=True)
    assert all(c.state == "closed" and c.clerk is None for c in counters.values())


@pytest.mark.django_db
def test_the_demo_people_log_in_with_password_demo_in_their_roles():
    seed()
    User = get_user_model()
    roles = dict(
        StaffMembership.objects.filter(hall__code="demo").values_list("user__username", "role")
    )
    assert roles == {
        "manager": Role.MANAGER,
        "greeter": Role.GREETER,
        **{f"clerk{n}": Role.CLERK for n in range(1, 9)},
    }
    for username in DEMO_USERS:
        assert User.objects.get(username=username).check_password("demo"), username


@pytest.mark.django_db
def test_the_printed_device_tokens_authenticate_as_the_demo_kiosk_and_display():
    tokens = printed_tokens(seed())
    for kind in (DeviceKind.KIOSK, DeviceKind.DISPLAY):
        device = device_for_token(tokens[kind])
        assert device is not None, kind
        assert (device.hall.code, device.kind, device.active) == ("demo", kind, True)
    active = Device.objects.filter(hall__code="demo", active=True)
    assert sorted(active.values_list("kind", flat=True)) == ["display", "kiosk", "rating_pad"]


@pytest.mark.django_db
def test_the_printed_rating_pad_token_opens_each_counters_rating_pad(client):
    output = seed()
    token = re.search(r"Rating pad token\s+(\S+)", output).group(1)
    device = device_for_token(token)
    assert (device.hall.code, device.kind) == ("demo", DeviceKind.RATING_PAD)
    urls = re.findall(r"Counter \d rating pad\s+http://127\.0\.0\.1:8000(\S+)", output)
    assert len(urls) == 8
    assert all(client.get(url).status_code == 200 for url in urls)


@pytest.mark.django_db
def test_seeding_twice_duplicates_nothing():
    first_tokens = printed_tokens(seed())
    first = everything_in_the_demo_hall()
    second_tokens = printed_tokens(seed())
    assert everything_in_the_demo_hall() == first
    assert first["active_devices"] == ["display", "kiosk", "rating_pad"]
    # Tokens are stored hashed, so a re-seed prints fresh ones and retires the old ones.
    assert device_for_token(second_tokens["kiosk"]) is not None
    assert device_for_token(first_tokens["kiosk"]) is None


@pytest.mark.django_db
def test_a_fault_reported_in_the_demo_is_escalated_by_e_mail_to_its_department(
    mailoutbox, django_capture_on_commit_callbacks
):
    seed()
    seed()  # routes are not duplicated
    hall = Hall.objects.get(code="demo")
    clerk = get_user_model().objects.get(username="clerk1")
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_open(hall=hall, kind=IncidentKind.PRINTER, reporter=clerk)
    assert incident.department is not None
    assert DepartmentRoute.objects.filter(kind=IncidentKind.PRINTER).count() == 1
    assert any("it-oncall@demo.example" in m.to for m in mailoutbox)


@pytest.mark.django_db
def test_seeding_again_keeps_passwords_people_have_changed():
    seed()
    manager = get_user_model().objects.get(username="manager")
    manager.set_password("a-better-password")
    manager.save()
    seed()
    manager.refresh_from_db()
    assert manager.check_password("a-better-password")


# --- device_token ---------------------------------------------------------------------------


def _device_token(*args) -> str:
    out = io.StringIO()
    call_command("device_token", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["kiosk", "display"])
def test_device_token_prints_one_line_that_authenticates(hall, kind):
    output = _device_token("--hall", "h1", "--kind", kind, "--name", "entrance")
    lines = output.splitlines()
    assert len(lines) == 1 and output.endswith("\n")
    token = lines[0]
    assert token.strip() == token and len(token) >= 32
    device = device_for_token(token)
    assert (device.hall, device.kind, device.name) == (hall, kind, "entrance")


def test_device_token_stores_only_the_hash(hall):
    token = _device_token("--hall", "h1", "--kind", "kiosk").strip()
    device = Device.objects.get(hall=hall)
    assert device.token_hash == hash_token(token)
    assert token not in device.token_hash
    stored = [str(v) for v in Device.objects.filter(pk=device.pk).values().get().values()]
    assert not any(token in value for value in stored)


def test_each_device_gets_its_own_token(hall):
    first = _device_token("--hall", "h1", "--kind", "kiosk").strip()
    second = _device_token("--hall", "h1", "--kind", "kiosk").strip()
    assert first != second
    assert device_for_token(first) != device_for_token(second)


def test_device_token_for_an_unknown_hall_is_a_command_error(hall):
    with pytest.raises(CommandError, match="nowhere"):
        _device_token("--hall", "nowhere", "--kind", "kiosk")
    assert not Device.objects.exists()


def test_device_token_refuses_an_unknown_kind(hall):
    with pytest.raises(CommandError):
        _device_token("--hall", "h1", "--kind", "printer")
    assert not Device.objects.exists()
