"""The demo hall of DESIGN.md: code ``demo``, 示范营业厅, eight counters, the standard business
types, a manager, a greeter, eight clerks (password ``demo``) and one kiosk and one display."""

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from counters.models import Counter, CounterKind, VipMode
from hall.auth import new_device_token
from hall.models import BusinessType, Device, DeviceKind, Hall, Role, StaffMembership
from hall.services import device_register, hall_create

DEMO_PASSWORD = "demo"

# code, prefix, 中文, English, expected minutes, needs ID
BUSINESS_TYPES = [
    ("payment", "A", "缴费", "Bill payment", 3, False),
    ("topup", "B", "预存话费", "Top-up", 3, False),
    ("service", "C", "业务受理", "Service application", 12, True),
    ("cards", "D", "售卡", "Prepaid cards", 4, False),
    ("consult", "E", "咨询", "Consultation", 5, False),
    ("query", "F", "查询/打印账单", "Query & bill printing", 4, True),
    ("complaint", "G", "投诉", "Complaints", 15, False),
    ("broadband", "H", "宽带业务", "Broadband", 15, True),
]

# number, name, kind, VIP behaviour, business types served
COUNTERS = [
    (1, "", CounterKind.GENERAL, VipMode.NONE, ["payment", "topup", "consult", "query"]),
    (2, "", CounterKind.GENERAL, VipMode.NONE, ["payment", "topup", "cards", "query"]),
    (3, "", CounterKind.GENERAL, VipMode.NONE, ["service", "cards", "consult"]),
    (4, "", CounterKind.GENERAL, VipMode.NONE, ["service", "broadband", "complaint"]),
    (5, "", CounterKind.GENERAL, VipMode.NONE, ["service", "query", "complaint", "consult"]),
    (6, "", CounterKind.GENERAL, VipMode.NONE, ["broadband", "service", "cards", "topup"]),
    (7, "VIP", CounterKind.VIP, VipMode.VIP_FIRST, [code for code, *_ in BUSINESS_TYPES]),
    (8, "快速缴费 Express", CounterKind.EXPRESS, VipMode.NONE, ["payment", "topup"]),
]

STAFF = [("manager", Role.MANAGER), ("greeter", Role.GREETER)] + [
    (f"clerk{n}", Role.CLERK) for n in range(1, 9)
]


def demo_layout(*, hall: Hall) -> None:
    """Give ``hall`` the demo's business types and eight counters, creating or updating them."""
    types = {}
    for order, (code, prefix, zh, en, minutes, needs_id) in enumerate(BUSINESS_TYPES):
        types[code], _ = BusinessType.objects.update_or_create(
            hall=hall,
            code=code,
            defaults=dict(
                prefix=prefix,
                name_zh=zh,
                name_en=en,
                expected_service_minutes=minutes,
                needs_id=needs_id,
                sort_order=order,
            ),
        )
    for number, name, kind, vip_mode, served in COUNTERS:
        counter, _ = Counter.objects.update_or_create(
            hall=hall, number=number, defaults=dict(name=name, kind=kind, vip_mode=vip_mode)
        )
        counter.business_types.set([types[code] for code in served])


@transaction.atomic
def seed_demo() -> dict:
    """Create or refresh the demo hall. Safe to run again: it never duplicates anything.

    Device tokens are stored hashed, so each run issues the demo devices fresh tokens and
    returns them for printing.
    """
    hall = Hall.objects.filter(code="demo").first()
    if hall is None:
        # Open all day (equal opening and closing times) so the demo works at any hour.
        hall = hall_create(
            code="demo",
            name="示范营业厅",
            timezone_name="Asia/Shanghai",
            opens_at=datetime.time(0, 0),
            closes_at=datetime.time(0, 0),
        )
    demo_layout(hall=hall)

    User = get_user_model()
    for username, role in STAFF:
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.first_name = username
        if role == Role.MANAGER:
            user.is_staff = user.is_superuser = True  # the manager runs the admin
        user.save()
        StaffMembership.objects.update_or_create(user=user, hall=hall, defaults={"role": role})

    tokens = {}
    for kind, name in (
        (DeviceKind.KIOSK, "demo kiosk"),
        (DeviceKind.DISPLAY, "demo lobby display"),
    ):
        # Rotate the token of the same device row rather than piling up disabled devices.
        device = Device.objects.filter(hall=hall, kind=kind, name=name).first()
        if device is None:
            _, tokens[kind] = device_register(hall=hall, kind=kind, name=name)
        else:
            tokens[kind], device.token_hash = new_device_token()
            device.active = True
            device.save(update_fields=["token_hash", "active"])
    return {"hall": hall, "tokens": tokens}
