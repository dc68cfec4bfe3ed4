"""Complaints and first-contact responsibility (首问负责制).

Whoever first receives a complaint owns it: ``complaint_register`` records it with a promised
callback time (the hall's default, two hours, or one given), ``complaint_reply`` closes it with
the reply (its owner or a manager of the hall). Both write their audit event in the same
transaction. The event goes to every display of the hall, so it carries only the complaint's id
and category: never the customer's name, phone or the description.

Follow-up (Celery beat every minute, ``hall.tasks.complaints_follow_up``): ``complaint_remind``
e-mails the owner ``hall.complaint_reminder_minutes`` before the deadline (0: no reminder);
``complaint_escalate`` raises a manager alert when the deadline passes unreplied, and the alert
e-mails the hall's managers (recovery.alerts: one e-mail, sent once, retried). Both claim their work
with a compare-and-set on ``reminded_at`` / ``escalated_at``, so a task that runs twice does
nothing twice. A reply clears the alert.

KPIs (``complaint_kpis``): the reply rate is replied ÷ registered; the on-time rate is replied by
the promised time ÷ replied (see there why that denominator).
"""

import datetime
import logging
import re

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hall.access import HANDLE_COMPLAINT, Refused, admit
from hall.errors import DomainError, InvalidInput, NotFound
from hall.i18n import in_both_languages
from hall.models import EventKind, Hall, Role
from hall.people import display_name
from hall.services import event_record
from recovery.alerts import alert_clear, alert_raise
from recovery.models import AlertKind, Complaint, ComplaintCategory, ComplaintStatus

log = logging.getLogger(__name__)

MAX_CALLBACK_MINUTES = 7 * 24 * 60  # a promise of more than a week is not a callback
DESCRIPTION_MAX = 2000
REPLY_MAX = 2000
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{3,18}[0-9]$")


class ComplaintAlreadyReplied(DomainError):
    code = "complaint_already_replied"
    default_message = gettext_lazy("This complaint has already been replied to.")


def _alert_subject(complaint_id: int) -> str:
    return f"complaint:{complaint_id}"


def _event_data(complaint: Complaint, **extra) -> dict:
    # Displays hear every event of the hall: the id and category only, nothing private.
    return {"complaint": complaint.pk, "category": complaint.category, **extra}


@transaction.atomic
def complaint_register(
    *,
    hall: Hall,
    owner,
    category: str,
    description: str,
    ticket=None,
    customer_name: str = "",
    customer_phone: str = "",
    callback_minutes: int | None = None,
    now: datetime.datetime | None = None,
) -> Complaint:
    """Record a complaint owned by ``owner``, its first receiver (a clerk or manager of the hall),
    with the callback promised ``callback_minutes`` from now (default: the hall's setting).

    ``ticket``: the ticket being served when the customer complained, if any (of this hall).
    """
    now = now or timezone.now()
    admit(who=owner, hall=hall, action=HANDLE_COMPLAINT)
    fields = {}
    if category not in ComplaintCategory.values:
        fields["category"] = _("One of: %(choices)s") % {
            "choices": ", ".join(ComplaintCategory.values)
        }
    description = (description or "").strip()
    if not description:
        fields["description"] = _("Say what the customer complains about.")
    elif len(description) > DESCRIPTION_MAX:
        fields["description"] = _("At most %(n)s characters.") % {"n": DESCRIPTION_MAX}
    customer_name = (customer_name or "").strip()
    if len(customer_name) > 50:
        fields["customer_name"] = _("At most %(n)s characters.") % {"n": 50}
    customer_phone = (customer_phone or "").strip()
    if customer_phone and not _PHONE.match(customer_phone):
        fields["customer_phone"] = _("A phone number: digits, at most 20.")
    if callback_minutes is None:
        callback_minutes = hall.complaint_callback_minutes
    if not isinstance(callback_minutes, int) or not 1 <= callback_minutes <= MAX_CALLBACK_MINUTES:
        fields["callback_minutes"] = _("Between 1 and %(n)s minutes.") % {"n": MAX_CALLBACK_MINUTES}
    if ticket is not None and ticket.hall_id != hall.pk:
        fields["ticket"] = _("Not a ticket of this hall.")
    if fields:
        raise InvalidInput(fields=fields)
    complaint = Complaint.objects.create(
        hall=hall,
        owner=owner,
        ticket=ticket,
        category=category,
        description=description,
        customer_name=customer_name,
        customer_phone=customer_phone,
        received_at=now,
        callback_due_at=now + datetime.timedelta(minutes=callback_minutes),
    )
    event_record(
        hall=hall,
        kind=EventKind.COMPLAINT_REGISTERED,
        actor=owner,
        data=_event_data(complaint),
        at=now,
    )
    return complaint


@transaction.atomic
def complaint_reply(
    *, complaint_id: int, user, reply: str, now: datetime.datetime | None = None
) -> Complaint:
    """Close the complaint with the reply given to the customer.

    Its owner may reply, or a manager of its hall. The claim is a compare-and-set on the open
    status (row-locked first on PostgreSQL), so of two concurrent replies exactly one wins and
    the other gets ``complaint_already_replied``. Clears the complaint's overdue alert, if any.
    """
    now = now or timezone.now()
    complaint = (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("hall")
        .filter(pk=complaint_id)
        .first()
    )
    if complaint is None:
        raise NotFound(_("No such complaint."))
    role = admit(who=user, hall=complaint.hall, action=HANDLE_COMPLAINT)
    if complaint.owner_id != user.pk and role != Role.MANAGER:
        raise Refused(_("Only the complaint's owner or a manager of the hall may reply."))
    reply = (reply or "").strip()
    if not reply:
        raise InvalidInput(fields={"reply": _("Say what the customer was told.")})
    if len(reply) > REPLY_MAX:
        raise InvalidInput(fields={"reply": _("At most %(n)s characters.") % {"n": REPLY_MAX}})
    claimed = Complaint.objects.filter(pk=complaint.pk, status=ComplaintStatus.OPEN).update(
        status=ComplaintStatus.REPLIED, reply=reply, replied_at=now, replied_by=user
    )
    if claimed != 1:
        complaint.refresh_from_db()
        raise ComplaintAlreadyReplied(
            _("This complaint was already replied to at %(time)s.")
            % {"time": f"{timezone.localtime(complaint.replied_at, complaint.hall.tz):%H:%M}"}
        )
    complaint.refresh_from_db()
    event_record(
        hall=complaint.hall,
        kind=EventKind.COMPLAINT_REPLIED,
        actor=user,
        data=_event_data(complaint, on_time=complaint.replied_on_time),
        at=now,
    )
    alert_clear(
        hall=complaint.hall,
        kind=AlertKind.COMPLAINT_OVERDUE,
        subject=_alert_subject(complaint.pk),
        now=now,
    )
    return complaint


# --- reading -------------------------------------------------------------------------------


# --- follow-up: reminders and escalation ----------------------------------------------------


def _local(hall: Hall, at: datetime.datetime) -> str:
    return f"{timezone.localtime(at, hall.tz):%Y-%m-%d %H:%M}"


def _labels(complaint: Complaint) -> tuple[str, str]:
    both = in_both_languages(ComplaintCategory(complaint.category).label)
    return both["zh"], both["en"]


def complaints_page_url(hall: Hall) -> str:
    site = getattr(settings, "SITE_URL", "").rstrip("/")
    return site + reverse("complaints-page", args=[hall.code])


def complaint_remind(*, complaint_id: int, now: datetime.datetime | None = None) -> bool:
    """E-mail the owner that the promised callback is due soon, once: True if this call sent it.

    The claim is a compare-and-set on ``reminded_at`` (only an open, unreminded complaint not yet
    past its deadline: past it, escalation takes over). A failed send gives the claim back, so
    the task's retry can send. The e-mail names the complaint, not the customer's phone or what
    they said: the owner reads those on the complaints page.
    """
    from django.core.mail import send_mail

    now = now or timezone.now()
    claimed = Complaint.objects.filter(
        pk=complaint_id,
        status=ComplaintStatus.OPEN,
        reminded_at__isnull=True,
        callback_due_at__gt=now,
    ).update(reminded_at=now)
    if not claimed:
        return False
    complaint = Complaint.objects.select_related("hall", "owner").get(pk=complaint_id)
    if not complaint.owner.email:
        log.info("Complaint %s: its owner has no e-mail address; no reminder sent", complaint_id)
        return False
    hall = complaint.hall
    due = _local(hall, complaint.callback_due_at)
    zh, en = _labels(complaint)
    minutes = max(1, round((complaint.callback_due_at - now).total_seconds() / 60))
    lines = [
        f"{hall.name} ({hall.code})",
        "",
        f"您受理的投诉#{complaint.pk}({zh})承诺在{due}前回复客户,还剩{minutes}分钟。",
        f"Complaint #{complaint.pk} ({en}), which you received, is due a reply by {due}: "
        f"{minutes} min left.",
        "",
        complaints_page_url(hall),
    ]
    try:
        send_mail(
            subject=f"[{hall.code}] 投诉回复提醒 / Complaint #{complaint.pk}: reply due by {due}",
            message="\n".join(lines),
            from_email=None,
            recipient_list=[complaint.owner.email],
        )
    except Exception:
        Complaint.objects.filter(pk=complaint_id, reminded_at=now).update(reminded_at=None)
        raise
    return True


def complaint_escalate(*, complaint_id: int, now: datetime.datetime | None = None) -> bool:
    """The promised callback has passed unreplied: alert the hall's managers, once.

    One transaction: the compare-and-set on ``escalated_at`` and the alert (``alert_raise``, which
    writes its event and, after commit, e-mails the hall's managers through Celery, once). A
    second run finds ``escalated_at`` set and does nothing. True if this call escalated.
    """
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Complaint.objects.filter(
            pk=complaint_id,
            status=ComplaintStatus.OPEN,
            escalated_at__isnull=True,
            callback_due_at__lte=now,
        ).update(escalated_at=now)
        if not claimed:
            return False
        complaint = Complaint.objects.select_related("hall", "owner").get(pk=complaint_id)
        hall = complaint.hall
        zh, en = _labels(complaint)
        owner = display_name(complaint.owner)
        due = _local(hall, complaint.callback_due_at)
        alert_raise(
            hall=hall,
            kind=AlertKind.COMPLAINT_OVERDUE,
            subject=_alert_subject(complaint.pk),
            message_zh=f"投诉#{complaint.pk}({zh})已超过承诺回复时间{due},首问负责人:{owner}",
            message_en=(
                f"Complaint #{complaint.pk} ({en}) passed its promised callback time {due} "
                f"unreplied; owner: {owner}"
            ),
            suggestion_zh="请督促首问负责人立即回复客户,或由值班经理直接回复",
            suggestion_en="Have the owner call the customer back now, or reply yourself.",
            data={
                "complaint": complaint.pk,
                "category": complaint.category,
                "owner": complaint.owner.get_username(),
                "callback_due_at": complaint.callback_due_at,
                "url": complaints_page_url(hall),
            },
            now=now,
        )
    return True
