"""The duty manager's alerts: raise one while a condition lasts, clear it when it ends.

``alert_raise`` and ``alert_clear`` are the only writers of ``ManagerAlert``. Each writes its
audit event (``alert.raised`` / ``alert.cleared``) in the same transaction, so the wall hears of
it live; raising also tells the hall's managers by e-mail through Celery after commit
(``recovery.tasks.alert_notify``, idempotent by a compare-and-set on ``notified_at``).

``alerts_check`` is the check (Celery beat every minute, and after the events that can raise or
clear an alert, ``recovery.hooks``; never from the wall, which only reads): a business type
whose longest wait passes the hall's target or whose waiting count passes its threshold, one
with people waiting and no open counter serving it (issue 16: it names the closed and paused
counters that could), and a counter paused too long, each raise an alert with a suggestion; each
clears when its condition ends.
"""

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from counters.hall_now import hall_now
from counters.models import ClerkSession, Counter, CounterState, PauseReason
from hall.i18n import in_both_languages
from hall.models import EventKind, Hall, Role, StaffMembership
from hall.outbox import task_send_on_commit
from hall.services import event_record
from queueing.models import Status, Ticket
from queueing.planning.advice import staffing_advice
from recovery.models import AlertKind, ManagerAlert

log = logging.getLogger(__name__)

# The alert kinds alerts_check owns: it clears those whose condition has ended. Other kinds
# (complaint_overdue) belong to whoever raises them.
CHECKED_KINDS = (
    AlertKind.LONG_WAIT,
    AlertKind.MANY_WAITING,
    AlertKind.LONG_PAUSE,
    AlertKind.NO_COUNTER_OPEN,
)
# The kinds more counters would help: the planner's advice is added to their suggestion.
PLANNER_KINDS = (AlertKind.LONG_WAIT, AlertKind.MANY_WAITING)


def alert_public(alert: ManagerAlert) -> dict:
    """What the wall and the metrics show of an alert; ``business_type`` (a code) and
    ``counter`` (a number) say what it is about, ``suggested_counters`` the counters its
    suggestion names (numbers): the wall links each to its row or tile."""
    data = alert.data or {}
    about, _sep, key = alert.subject.partition(":")
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "subject": alert.subject,
        "business_type": data.get("business_type") or (key if about == "bt" else None),
        "counter": data.get("counter"),
        "suggested_counters": list(data.get("suggested_counters") or []),
        "message_zh": alert.message_zh,
        "message_en": alert.message_en,
        "suggestion_zh": alert.suggestion_zh,
        "suggestion_en": alert.suggestion_en,
        "raised_at": alert.raised_at,
    }


def alert_raise(
    *,
    hall: Hall,
    kind: AlertKind | str,
    subject: str,
    message_zh: str,
    message_en: str,
    suggestion_zh: str = "",
    suggestion_en: str = "",
    data: dict | None = None,
    now: datetime.datetime | None = None,
) -> ManagerAlert | None:
    """Raise an alert unless one of this (hall, kind, subject) is already open: then None.

    Race-safe: the partial unique constraint ``one_open_alert_per_subject`` is the guard. Two
    concurrent raises both insert; on PostgreSQL the second blocks on the index until the first
    commits and then fails, which the savepoint turns into None (on SQLite the IMMEDIATE
    transactions serialise them, and the second sees the first's row). May run inside the
    caller's transaction; the e-mail goes only if it commits.
    """
    if kind not in AlertKind.values:
        raise ValueError(f"kind must be one of {', '.join(AlertKind.values)}")
    now = now or timezone.now()
    with transaction.atomic():
        open_alerts = ManagerAlert.objects.filter(
            hall=hall, kind=kind, subject=subject, cleared_at__isnull=True
        )
        if open_alerts.exists():
            return None
        try:
            with transaction.atomic():  # a savepoint: losing the race must not spoil the caller
                alert = ManagerAlert.objects.create(
                    hall=hall,
                    kind=kind,
                    subject=subject,
                    message_zh=message_zh[:300],
                    message_en=message_en[:300],
                    suggestion_zh=suggestion_zh[:300],
                    suggestion_en=suggestion_en[:300],
                    data=data or {},
                    raised_at=now,
                )
        except IntegrityError:
            return None
        event_record(
            hall=hall,
            kind=EventKind.ALERT_RAISED,
            data={"alert": alert.pk, "kind": alert.kind, "subject": subject},
            at=now,
        )

        from recovery.tasks import alert_notify

        task_send_on_commit(alert_notify, alert.pk)
    return alert


def alert_clear(
    *,
    hall: Hall,
    kind: AlertKind | str,
    subject: str,
    now: datetime.datetime | None = None,
) -> bool:
    """Clear the open alert of this (hall, kind, subject); False when none is open.

    A compare-and-set on ``cleared_at``: of two concurrent clears exactly one writes the event.
    """
    now = now or timezone.now()
    with transaction.atomic():
        alert_id = (
            ManagerAlert.objects.filter(
                hall=hall, kind=kind, subject=subject, cleared_at__isnull=True
            )
            .values_list("pk", flat=True)
            .first()
        )
        if alert_id is None:
            return False
        if not ManagerAlert.objects.filter(pk=alert_id, cleared_at__isnull=True).update(
            cleared_at=now
        ):
            return False
        event_record(
            hall=hall,
            kind=EventKind.ALERT_CLEARED,
            data={"alert": alert_id, "kind": str(kind), "subject": subject},
            at=now,
        )
    return True


def open_alerts(*, hall: Hall) -> list[ManagerAlert]:
    return list(ManagerAlert.objects.filter(hall=hall, cleared_at__isnull=True).order_by("pk"))


# --- The periodic check --------------------------------------------------------------------


def _minutes(seconds: int) -> int:
    return max(1, round(seconds / 60))


# What each kind of counter that has the skill may do, by its state on the wall: the phrase
# (Chinese, English) with {zh}/{en} for its numbers.
_COUNTER_WAYS = {
    "closed": ("可开启{zh}号窗口", "open counter {en}"),
    "idle": ("{zh}号窗口空闲,可办理此业务", "counter {en} is idle and can serve it"),
    "paused": ("{zh}号窗口暂停中,可恢复", "resume paused counter {en}"),
}


def _counter_suggestion(
    counters: list[dict],
    code: str,
    *,
    states: tuple[str, ...] = ("closed", "idle"),
    nobody: tuple[str, str] = (
        "没有其他窗口能办理此业务,请考虑调配人员",
        "No other counter can serve this business: consider moving staff",
    ),
) -> tuple[str, str, list[int]]:
    """The counters in ``states`` that can serve ``code`` and what each may do: by default
    open a closed one, or let an idle one take this queue; for a business no open counter
    serves (issue 16), open a closed one or resume a paused one."""
    parts_zh, parts_en, numbers = [], [], []
    for state in states:
        able = [
            c["number"] for c in counters if c["state"] == state and code in c["business_types"]
        ]
        if able:
            zh, en = _COUNTER_WAYS[state]
            parts_zh.append(zh.format(zh="、".join(map(str, able))))
            parts_en.append(en.format(en=", ".join(map(str, able))))
            numbers += able
    if not parts_zh:
        return (*nobody, [])
    en = "; ".join(parts_en)
    return ";".join(parts_zh) + "。", en[0].upper() + en[1:] + ".", numbers


def _no_counter_open(bt: dict, counters: list[dict]) -> dict:
    """The alert for a business with people waiting and no open counter serving it, its
    priority customers counted first (they are the ones the wall lists first)."""
    waiting = bt["waiting"]
    first = bt["by_lane"]["vip"] + bt["by_lane"]["priority"]
    zh = f"{bt['name_zh']}有{waiting}人等候,没有开放的窗口办理"
    en = f"{bt['name_en']}: {waiting} waiting and no counter open for it"
    if first:
        zh += f"(其中{first}位优先客户)"
        en += f" ({first} priority)"
    return {
        "message_zh": zh,
        "message_en": en,
        "suggestion": _counter_suggestion(
            counters,
            bt["code"],
            states=("closed", "paused"),
            nobody=(
                "没有窗口能办理此业务,请调配人员",
                "No counter can serve this business: move staff to it",
            ),
        ),
        "data": {"business_type": bt["code"], "waiting": waiting, "priority": first},
    }


def alert_conditions(*, hall: Hall, metrics: dict) -> dict[tuple[str, str], dict]:
    """The alerts the hall's metrics call for, by (kind, subject), with their texts.

    Pure: reads only ``metrics`` (``alert_figures``: the figures of ``counters.hall_now``, the
    same the wall shows), so the alerts and the wall agree.
    """
    wanted: dict[tuple[str, str], dict] = {}
    target_s = hall.target_wait_minutes * 60
    counters = metrics["counters"]["list"]
    staffed = metrics["staffed_today"]
    for bt in metrics["waiting"]["by_business_type"]:
        subject = f"bt:{bt['code']}"
        longest = bt["longest_wait_s"]
        suggestion = None
        if longest is not None and longest > target_s:
            suggestion = suggestion or _counter_suggestion(counters, bt["code"])
            wanted[(AlertKind.LONG_WAIT, subject)] = {
                "message_zh": (
                    f"{bt['name_zh']}最长已等候{_minutes(longest)}分钟,"
                    f"超过目标{hall.target_wait_minutes}分钟"
                ),
                "message_en": (
                    f"{bt['name_en']}: the longest wait is {_minutes(longest)} min, "
                    f"past the {hall.target_wait_minutes} min target"
                ),
                "suggestion": suggestion,
                "data": {"business_type": bt["code"], "longest_wait_s": longest},
            }
        if bt["waiting"] > hall.waiting_alert_threshold:
            suggestion = suggestion or _counter_suggestion(counters, bt["code"])
            wanted[(AlertKind.MANY_WAITING, subject)] = {
                "message_zh": (
                    f"{bt['name_zh']}有{bt['waiting']}人等候,超过{hall.waiting_alert_threshold}人"
                ),
                "message_en": (
                    f"{bt['name_en']}: {bt['waiting']} waiting, more than "
                    f"{hall.waiting_alert_threshold}"
                ),
                "suggestion": suggestion,
                "data": {"business_type": bt["code"], "waiting": bt["waiting"]},
            }
        if staffed and bt["waiting"] and not bt["counters_open"]:
            wanted[(AlertKind.NO_COUNTER_OPEN, subject)] = _no_counter_open(bt, counters)
    for c in counters:
        pause = c["pause"]
        if pause is None or pause["seconds"] <= hall.pause_alert_minutes * 60:
            continue
        minutes = _minutes(pause["seconds"])
        label = in_both_languages(PauseReason(pause["reason"]).label)
        label_zh, label_en = label["zh"], label["en"]
        wanted[(AlertKind.LONG_PAUSE, f"counter:{c['id']}")] = {
            "message_zh": f"{c['number']}号窗口已暂停{minutes}分钟({label_zh})",
            "message_en": (f"Counter {c['number']} has been paused for {minutes} min ({label_en})"),
            "suggestion": (
                "请了解原因,必要时安排其他人员接替",
                "Find out why; if need be, have someone take over the counter.",
                [],
            ),
            "data": {"counter": c["number"], "paused_s": pause["seconds"]},
        }
    return wanted


def alerts_apply(*, hall: Hall, metrics: dict, now: datetime.datetime | None = None) -> dict:
    """Raise the alerts ``metrics`` call for and clear the checked ones that no longer apply.

    Returns {"raised": [...], "cleared": [...]} as (kind, subject) pairs. Writes nothing when
    nothing changed, so calling it after every metrics computation costs no write.
    """
    now = now or timezone.now()
    wanted = alert_conditions(hall=hall, metrics=metrics)
    open_now = {(a["kind"], a["subject"]) for a in metrics["alerts"]}
    raised, cleared = [], []
    for (kind, subject), alert in wanted.items():
        if (kind, subject) in open_now:
            continue
        suggestion_zh, suggestion_en, counters = alert["suggestion"]
        if alert_raise(
            hall=hall,
            kind=kind,
            subject=subject,
            message_zh=alert["message_zh"],
            message_en=alert["message_en"],
            suggestion_zh=suggestion_zh,
            suggestion_en=suggestion_en,
            data={**alert["data"], "suggested_counters": counters},
            now=now,
        ):
            raised.append((str(kind), subject))
    for kind, subject in sorted(open_now):
        stale = kind in CHECKED_KINDS and (kind, subject) not in wanted
        if stale and alert_clear(hall=hall, kind=kind, subject=subject, now=now):
            cleared.append((kind, subject))
    return {"raised": raised, "cleared": cleared}


def alert_figures(*, hall: Hall, now: datetime.datetime) -> dict:
    """What ``alert_conditions`` reads: the waiting and counter figures the wall shows
    (counters.hall_now, the same code) and the open alerts."""
    live = hall_now(hall=hall, now=now)
    return {
        "waiting": live["waiting"],
        "counters": live["counters"],
        "alerts": [alert_public(a) for a in open_alerts(hall=hall)],
        "staffed_today": hall_staffed_today(hall=hall, now=now),
    }


def hall_staffed_today(*, hall: Hall, now: datetime.datetime) -> bool:
    """Has a clerk been at one of the hall's counters this service day (or is one now)?

    Before that, every business is without an open counter and the no-counter alert would
    only say the day has not begun: that is left to the wait alerts, as the forecast takes
    every counter as about to open then (queueing.selectors.hall_state). Once the day has
    begun, the last counter closing with people still waiting does raise it. One query."""
    day_start = datetime.datetime.combine(hall.service_date(now), datetime.time.min, tzinfo=hall.tz)
    return ClerkSession.objects.filter(
        Q(ended_at__isnull=True) | Q(ended_at__gte=day_start), counter__hall_id=hall.pk
    ).exists()


def alerts_check(*, hall: Hall, now: datetime.datetime | None = None) -> dict:
    """Read the hall's figures and apply ``alerts_apply`` (the periodic check)."""
    now = now or timezone.now()
    return alerts_apply(hall=hall, metrics=alert_figures(hall=hall, now=now), now=now)


def alert_halls_to_check() -> list[int]:
    """Halls where a checked alert may need raising or clearing: someone waits, a counter is
    paused, or a checked alert is open. Three small queries; idle halls cost nothing more."""
    ids = set(
        Ticket.objects.filter(status=Status.WAITING)
        .order_by()
        .values_list("hall_id", flat=True)
        .distinct()
    )
    ids.update(
        Counter.objects.filter(state=CounterState.PAUSED)
        .order_by()
        .values_list("hall_id", flat=True)
        .distinct()
    )
    ids.update(
        ManagerAlert.objects.filter(cleared_at__isnull=True, kind__in=CHECKED_KINDS)
        .order_by()
        .values_list("hall_id", flat=True)
        .distinct()
    )
    return sorted(ids)


# --- Telling the managers ------------------------------------------------------------------


# alert_notify retries a failed e-mail 5 times a minute apart: an alert untold after 10 minutes
# has no task left (the broker was down when it was raised, or a worker died with it).
LOST_NOTICE = datetime.timedelta(minutes=10)
# An alert older than this is not mailed late: the managers have seen the wall by then.
NOTICE_TOO_LATE = datetime.timedelta(hours=12)


def alerts_untold(*, now: datetime.datetime | None = None) -> list[int]:
    """Open alerts whose e-mail task was lost (the beat's ``check_alerts_all_halls`` sends them
    again; ``alert_notify_send`` still claims each by compare-and-set, so none goes twice)."""
    now = now or timezone.now()
    return list(
        ManagerAlert.objects.filter(
            cleared_at__isnull=True,
            notified_at__isnull=True,
            raised_at__lt=now - LOST_NOTICE,
            raised_at__gt=now - NOTICE_TOO_LATE,
        )
        .order_by("raised_at")
        .values_list("pk", flat=True)
    )


def alert_recipients(*, hall: Hall) -> list[str]:
    """The e-mail addresses of the hall's managers."""
    return sorted(
        set(
            StaffMembership.objects.filter(hall=hall, role=Role.MANAGER, user__is_active=True)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def alert_notify_send(*, alert_id: int, now: datetime.datetime | None = None) -> bool:
    """E-mail the hall's managers about an alert, once: True if this call sent it.

    The claim is a compare-and-set on ``notified_at`` (a task run twice sends once); a failed
    send gives the claim back so the retry can send. An alert cleared before anyone was told is
    not sent: nothing is left to act on.
    """
    from django.core.mail import send_mail

    now = now or timezone.now()
    if not ManagerAlert.objects.filter(pk=alert_id, notified_at__isnull=True).update(
        notified_at=now
    ):
        return False
    alert = ManagerAlert.objects.select_related("hall").get(pk=alert_id)
    if alert.cleared_at is not None:
        return False
    advise = alert.kind in PLANNER_KINDS and settings.ALERT_PLANNER_ADVICE
    if advise and "planner" not in alert.data:  # a retry after a failed send already has it
        _add_planner_advice(alert, now=now)
    recipients = alert_recipients(hall=alert.hall)
    if not recipients:
        return False
    subject = f"[{alert.hall.code}] {alert.message_zh} / {alert.message_en}"
    lines = [
        f"{alert.hall.name} ({alert.hall.code})",
        "",
        alert.message_zh,
        alert.suggestion_zh,
        "",
        alert.message_en,
        alert.suggestion_en,
        "",
        f"{timezone.localtime(alert.raised_at, alert.hall.tz):%Y-%m-%d %H:%M:%S %Z}",
    ]
    try:
        send_mail(
            subject=subject.replace("\n", " ")[:200],
            message="\n".join(lines),
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:
        ManagerAlert.objects.filter(pk=alert_id, notified_at=now).update(notified_at=None)
        raise
    return True


def _add_planner_advice(alert: ManagerAlert, *, now: datetime.datetime) -> None:
    """Append the planner's staffing for this hour to a wait alert's suggestion (and its data),
    before the e-mail goes; the wall shows it from its next metrics. Runs in the Celery worker
    (a search takes seconds). A planner failure is logged and the alert goes as it was."""
    try:
        advice = staffing_advice(hall=alert.hall, now=now)
    except Exception:
        log.exception("planner advice for alert %s failed; the alert goes without it", alert.pk)
        return
    if advice is None:
        return
    zh = f"规划器建议本时段开{advice.advised}个窗口(现开{advice.open_now}个)"
    en = f"The planner advises {advice.advised} open counters this hour ({advice.open_now} now)"
    if not advice.reachable:
        zh += ",即使全部开启也可能超过目标等候时间"
        en += "; even every counter may miss the target"
    alert.suggestion_zh = f"{alert.suggestion_zh}{zh}。"[:300]
    alert.suggestion_en = f"{alert.suggestion_en} {en}.".strip()[:300]
    alert.data = {**alert.data, "planner": advice.as_data()}
    alert.save(update_fields=["suggestion_zh", "suggestion_en", "data"])
