"""The demo hall of DESIGN.md: code ``demo``, 示范营业厅, eight counters, the standard business
types, a manager, a greeter, eight clerks (password ``demo``), one kiosk, one display and one
rating pad (the satisfaction tablet; every counter's pad page takes its token)."""

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction

from counters.models import Counter, CounterKind, VipMode
from hall.auth import new_device_token
from hall.models import (
    BusinessType,
    Department,
    Device,
    DeviceKind,
    Hall,
    IncidentKind,
    PhraseStep,
    Role,
    StaffMembership,
    StandardPhrase,
)
from hall.services import device_register, hall_create
from recovery.models import DepartmentRoute

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

# The standard phrases (服务标准用语) of DOMAIN.md, per business type: greet, confirm, close.
# Broadband has no row there; its phrases follow the service application's.
PHRASES = {
    "payment": (
        ["您好!请问您缴费吗?"],
        ["请问您的号码是多少?", "您是XXX客户吗?", "收您XXX元,找您XXX元,请核收。"],
        ["请您慢走,欢迎再来!"],
    ),
    "topup": (
        ["您好!请问您要预存话费吗?"],
        ["请问您的号码是多少?", "请问您准备预存多少?"],
        ["您已预存XXX元,请收好收据。请您慢走!"],
    ),
    "service": (
        ["您好!请问您办理什么业务?"],
        ["请出示您的证件。", "(证件不符时)对不起,因为……,请您更换证件。", "请您核实后签字。"],
        ["请收好您的票据和证件。请您慢走!"],
    ),
    "cards": (
        ["您好!请问您要买卡吗?"],
        ["收您XXX元,找您XXX元。"],
        ["请收好您的卡和票据。请您慢走!"],
    ),
    "consult": (
        ["您好!请问您有什么问题?"],
        ["(耐心解释;客户不接受时尊重其选择)"],
        ["请问还有其他问题吗?请您慢走!"],
    ),
    "query": (
        ["您好!请问您要查询话费吗?"],
        ["请出示您的缴费发票(详单需证件)。", "马上为您打印,请稍等。"],
        ["请收好您的账单。请您慢走!"],
    ),
    "complaint": (
        ["您好!首先我代表公司向您表示歉意。"],
        ["您反映的问题是……,我记录得准确吗?", "我们将在两小时内与您联系。"],
        ["感谢您对我们工作的监督。"],
    ),
    "broadband": (
        ["您好!请问您办理宽带业务吗?"],
        ["请出示您的证件。", "请问您的安装地址是哪里?", "请您核实后签字。"],
        ["请收好您的票据和证件。请您慢走!"],
    ),
}
# Hall-wide phrases: the wrong counter, an interruption and its end, a system fault.
HALL_PHRASES = {
    PhraseStep.TRANSFER: ["您办理的业务请到X号窗口,我已为您转接,您无需重新排队。"],
    PhraseStep.INTERRUPT: ["对不起,请您稍等片刻,给您带来不便敬请谅解。"],
    PhraseStep.RESUME: ["让您久等了。"],
    PhraseStep.FAULT: ["非常抱歉,系统暂时故障,我们已通知相关部门尽快处理。"],
}

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
    demo_phrases(hall=hall, types=types)


def demo_phrases(*, hall: Hall, types: dict[str, BusinessType]) -> None:
    """Seed the standard phrases, each step only where the hall has none yet for it: running the
    seed again never duplicates them nor undoes a manager's edits in the admin."""
    steps = (PhraseStep.GREET, PhraseStep.CONFIRM, PhraseStep.CLOSE)
    groups = [
        (types[code], step, texts)
        for code, by_step in PHRASES.items()
        for step, texts in zip(steps, by_step, strict=True)
    ]
    groups += [(None, step, texts) for step, texts in HALL_PHRASES.items()]
    existing = set(StandardPhrase.objects.filter(hall=hall).values_list("business_type", "step"))
    StandardPhrase.objects.bulk_create(
        StandardPhrase(hall=hall, business_type=bt, step=step, text=text, sort_order=order)
        for bt, step, texts in groups
        if (bt.pk if bt else None, step) not in existing
        for order, text in enumerate(texts)
    )


@transaction.atomic
def demo_department() -> None:
    """An operator-wide department answering for every kind of fault, by e-mail only (without
    EMAIL_HOST the messages land in var/mail/): reporting a fault in the demo shows escalation.
    """
    department, _ = Department.objects.get_or_create(
        name="演示IT运维 Demo IT operations",
        defaults={"emails": "it-oncall@demo.example", "escalation_contacts": "region@demo.example"},
    )
    for kind in IncidentKind.values:
        if not DepartmentRoute.objects.filter(kind=kind, hall__isnull=True).exists():
            DepartmentRoute.objects.create(department=department, kind=kind, hall=None)


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
            user.email = f"{username}@demo.example"  # alerts and complaint reminders
        if role == Role.MANAGER:
            user.is_staff = user.is_superuser = True  # the manager runs the admin
        user.save()
        StaffMembership.objects.update_or_create(user=user, hall=hall, defaults={"role": role})

    demo_department()

    tokens = {}
    for kind, name in (
        (DeviceKind.KIOSK, "demo kiosk"),
        (DeviceKind.DISPLAY, "demo lobby display"),
        (DeviceKind.RATING_PAD, "demo rating pad"),
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
