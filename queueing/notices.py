"""Text messages to the phone a customer left at the kiosk ("optional phone for a notice").

When a counter greets a ticket ("请A013号准备") its customer gets "get ready", and when it calls
the ticket, "your turn, counter 3". Customers may wait outside the hall or in the VIP room;
this is how they learn their turn has come.

``phone_notices_queue`` runs inside the call's transaction and writes the notice rows (so a
notice is never lost: the record exists as soon as the call does) and sends each through a Celery
task after commit. ``phone_notice_send`` claims a row by compare-and-set before sending, so a
task that runs twice sends nothing twice, and a failure is retried with backoff by the task.

The gateway: ``PHONE_NOTICE_WEBHOOK_URL`` receives a JSON POST ``{"phone", "text", "hall",
"ticket", "kind", "notice"}`` signed with HMAC-SHA256 of the body under
``PHONE_NOTICE_WEBHOOK_SECRET`` in ``X-Hallq-Signature: sha256=<hex>``, with
``Idempotency-Key: notice-<id>`` so the gateway can also drop a repeat. Without a URL (the
embedded default) the text is only logged, and the notice says so: ``logged`` ("logged, not
sent"), never ``sent``, on the greeter tablet and in the daily report.
"""

import datetime
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from hall.outbox import task_send_on_commit
from queueing.models import NoticeKind, NoticeStatus, PhoneNotice, Ticket

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
TIMEOUT_SECONDS = 5
# The sweep (``phone_notices_resend``): a claim older than this died with its worker; a pending
# notice untouched for longer lost its task (e.g. the broker was down at commit).
DEAD_CLAIM = datetime.timedelta(minutes=5)
LOST_TASK = datetime.timedelta(minutes=10)


def gateway_configured() -> bool:
    """Is there an SMS gateway to send to? Without one a notice is logged, not sent."""
    return bool(settings.PHONE_NOTICE_WEBHOOK_URL)


class NoticeFailed(Exception):
    """The gateway did not take the notice; the task retries it."""


def _text(ticket: Ticket, kind: str, counter) -> str:
    # The hall's customers read Chinese; an SMS is short (70 characters per part).
    hall = ticket.hall.name
    if kind == NoticeKind.CALLED:
        return f"【{hall}】请{ticket.number}号到{counter.number}号窗口办理业务。"
    return f"【{hall}】您的{ticket.number}号即将办理,请到{counter.number}号窗口附近准备。"


def phone_notices_queue(*, counter, called: Ticket | None, greeted: Ticket | None) -> None:
    """Record the notices a call owes and send them after commit. Call inside the transaction."""
    from queueing.tasks import send_phone_notice

    for ticket, kind in ((called, NoticeKind.CALLED), (greeted, NoticeKind.GET_READY)):
        if ticket is None or not ticket.phone:
            continue
        notice, created = PhoneNotice.objects.get_or_create(
            ticket=ticket, kind=kind, defaults={"text": _text(ticket, kind, counter)}
        )
        if created:  # a recall or a second greeting does not text the customer again
            task_send_on_commit(send_phone_notice, notice.pk)


def _post(notice: PhoneNotice) -> str:
    return phone_text_post(
        payload={
            "phone": notice.ticket.phone,
            "text": notice.text,
            "hall": notice.ticket.hall.code,
            "ticket": notice.ticket.number,
            "kind": notice.kind,
            "notice": notice.pk,
        },
        idempotency_key=f"notice-{notice.pk}",
    )


def phone_text_post(*, payload: dict, idempotency_key: str) -> str:
    """POST one text to the gateway (signed, with its ``Idempotency-Key``); ``NoticeFailed`` if
    it does not take it. Also the path of the booking's verification codes (appointments)."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    secret = settings.PHONE_NOTICE_WEBHOOK_SECRET.encode()
    signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        settings.PHONE_NOTICE_WEBHOOK_URL,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Hallq-Signature": f"sha256={signature}",
            "Idempotency-Key": idempotency_key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return f"HTTP {response.status}"
    except (urllib.error.URLError, OSError) as error:
        raise NoticeFailed(str(getattr(error, "reason", error))[:150]) from None


def phone_notice_send(*, notice_id: int) -> str:
    """Send one notice unless it was sent (or is being sent) already; returns its status.

    Claims the row (pending → sending) by compare-and-set first: of two runs of the same task,
    only one sends. A failure puts it back to pending (the task retries) or, after
    ``MAX_ATTEMPTS``, to failed.
    """
    claimed = PhoneNotice.objects.filter(pk=notice_id, status=NoticeStatus.PENDING).update(
        status=NoticeStatus.SENDING, claimed_at=timezone.now()
    )
    if claimed != 1:
        return PhoneNotice.objects.filter(pk=notice_id).values_list("status", flat=True).first()
    notice = PhoneNotice.objects.select_related("ticket__hall").get(pk=notice_id)
    attempts = notice.attempts + 1
    try:
        if gateway_configured():
            detail, status = _post(notice), NoticeStatus.SENT
        else:
            log.info("phone notice (no gateway configured) %s: %s", notice.pk, notice.text)
            detail, status = "logged: no gateway configured", NoticeStatus.LOGGED
    except NoticeFailed as failure:
        status = NoticeStatus.FAILED if attempts >= MAX_ATTEMPTS else NoticeStatus.PENDING
        PhoneNotice.objects.filter(pk=notice_id).update(
            status=status, attempts=attempts, detail=str(failure)
        )
        if status == NoticeStatus.PENDING:
            raise
        log.warning("phone notice %s failed %s times: %s", notice_id, attempts, failure)
        return status
    sent_at = timezone.now() if status == NoticeStatus.SENT else None
    PhoneNotice.objects.filter(pk=notice_id).update(
        status=status, attempts=attempts, detail=detail, sent_at=sent_at
    )
    return status


def phone_notices_resend(*, now: datetime.datetime | None = None) -> list[int]:
    """The pending notices whose task is gone, after freeing claims that died mid-send.

    Retries back off at most 5 minutes, so a pending notice untouched for 10 has no task left.
    A resent notice is still claimed by compare-and-set: a late original task sends nothing.
    """
    now = now or timezone.now()
    PhoneNotice.objects.filter(status=NoticeStatus.SENDING, claimed_at__lt=now - DEAD_CLAIM).update(
        status=NoticeStatus.PENDING
    )
    lost = PhoneNotice.objects.filter(status=NoticeStatus.PENDING).filter(
        Q(claimed_at__isnull=True, created_at__lt=now - LOST_TASK)
        | Q(claimed_at__lt=now - LOST_TASK)
    )
    return list(lost.values_list("pk", flat=True))
