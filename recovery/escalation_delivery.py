"""What an incident's notifications say and how one is delivered: the webhook's signed JSON
body, the e-mail in both languages, and the signed acknowledge link they both carry.

The webhook body: ``{"event": "incident.opened" | "incident.reminder" | "incident.escalated" |
"incident.resolved", "incident": {...}, "hall": {"code", "name"}, "round": n, "level":
"department" | "manager" | "regional" (how far the incident has been escalated),
"acknowledge_url": absolute URL taking a POST}``, signed with HMAC-SHA256 of the body under the
department's secret in ``X-Hallq-Signature: sha256=<hex>``, with ``Idempotency-Key:
incident-<id>-round-<n>`` (the same on every try of a round, so a receiver can drop a repeat).
"""

import datetime
import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.request

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils import timezone

from hall.i18n import label_in_both
from hall.models import Incident
from hall.selectors import incident_public
from recovery.models import EscalationAttempt, EscalationLevel, NotificationChannel

TIMEOUT_SECONDS = 5
ACKNOWLEDGE_SALT = "hall.incident.acknowledge"
ACKNOWLEDGE_MAX_AGE = datetime.timedelta(days=7)


class RoundEvent:
    OPENED = "incident.opened"
    REMINDER = "incident.reminder"
    ESCALATED = "incident.escalated"
    RESOLVED = "incident.resolved"


LEVEL_NAMES = {
    EscalationLevel.DEPARTMENT: "department",
    EscalationLevel.MANAGER: "manager",
    EscalationLevel.REGIONAL: "regional",
}


class DeliveryFailed(Exception):
    def __init__(self, error: str, response_code: int | None = None):
        super().__init__(error)
        self.error, self.response_code = error, response_code


def acknowledge_token(incident_id: int) -> str:
    return signing.dumps(incident_id, salt=ACKNOWLEDGE_SALT)


def acknowledge_token_valid(token: str, incident_id: int) -> bool:
    try:
        value = signing.loads(token, salt=ACKNOWLEDGE_SALT, max_age=ACKNOWLEDGE_MAX_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return False
    return value == incident_id


def acknowledge_urls(incident_id: int) -> dict[str, str]:
    """Absolute links that acknowledge without a login: ``api`` takes a POST, ``page`` is what a
    person clicks in the e-mail (it shows the incident and a button)."""
    query = f"?token={acknowledge_token(incident_id)}"
    return {
        key: settings.SITE_URL + reverse(name, args=[incident_id]) + query
        for key, name in (("api", "incident-acknowledge"), ("page", "incident-acknowledge-page"))
    }


def webhook_body(*, incident: Incident, event: str, round_number: int) -> bytes:
    data = incident_public(incident)
    data["description"] = incident.description
    data["affected_customers"] = incident.affected_customers
    data["resolution"] = incident.resolution
    return json.dumps(
        {
            "event": event,
            "incident": data,
            "hall": {"code": incident.hall.code, "name": incident.hall.name},
            "round": round_number,
            "level": LEVEL_NAMES[EscalationLevel(incident.escalation_level)],
            "acknowledge_url": acknowledge_urls(incident.pk)["api"],
        },
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
    ).encode()


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_webhook(*, url: str, secret: str, body: bytes, idempotency_key: str) -> int:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "hallq-escalation",
        "Idempotency-Key": idempotency_key,
    }
    if secret:
        headers["X-Hallq-Signature"] = webhook_signature(secret, body)
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"HTTP {error.code}", response_code=error.code) from None
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryFailed(str(getattr(error, "reason", error))[:300]) from None


_SUBJECT = {
    RoundEvent.OPENED: "系统故障 System fault",
    RoundEvent.REMINDER: "仍未确认 Still unacknowledged",
    RoundEvent.ESCALATED: "故障升级 Escalated fault",
    RoundEvent.RESOLVED: "故障已恢复 Fault resolved",
}


def email_text(*, incident: Incident, event: str, round_number: int) -> tuple[str, str]:
    """Subject and body of the e-mail. Both languages in one message, like the apology: the
    people told (the department, the manager, the region) read one or the other, and the mail
    leaves before anyone's language is known."""
    hall = incident.hall
    opened = timezone.localtime(incident.opened_at, hall.tz)
    codes = incident_public(incident)["business_types"]
    affected = "全部业务 all business types" if codes is None else ", ".join(codes)
    kind = label_in_both(incident.get_kind_display)
    severity = label_in_both(incident.get_severity_display)
    subject = f"[{hall.name}] {_SUBJECT[event]}: {kind} ({severity}) #{incident.pk}"
    lines = [
        f"{_SUBJECT[event]} — {hall.name} ({hall.code})",
        "",
        f"故障 Kind: {kind}",
        f"严重程度 Severity: {severity}",
        f"受影响业务 Affected: {affected}",
        f"开始 Opened: {opened:%Y-%m-%d %H:%M}",
        f"通知轮次 Round: {round_number}",
        f"说明 Description: {incident.description or '-'}",
        "",
        f"{incident.apology_zh}",
        f"{incident.apology_en}",
    ]
    if event == RoundEvent.RESOLVED:
        lines += [
            "",
            f"恢复 Resolved: {timezone.localtime(incident.resolved_at, hall.tz):%Y-%m-%d %H:%M}",
            f"受影响客户 Customers affected: {incident.affected_customers}",
            f"处理结果 Resolution: {incident.resolution or '-'}",
        ]
    else:
        lines += ["", "确认收到 Acknowledge:", acknowledge_urls(incident.pk)["page"]]
    return subject, "\n".join(lines)


def send_email(*, to: str, subject: str, body: str) -> None:
    try:
        EmailMessage(subject=subject, body=body, to=[to]).send()
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryFailed(str(error)[:300]) from None


def deliver(*, incident: Incident, attempt: EscalationAttempt, event: str) -> int | None:
    if attempt.channel == NotificationChannel.WEBHOOK:
        return post_webhook(
            url=attempt.target,
            secret=incident.department.webhook_secret,
            body=webhook_body(incident=incident, event=event, round_number=attempt.round),
            idempotency_key=f"incident-{incident.pk}-round-{attempt.round}",
        )
    subject, body = email_text(incident=incident, event=event, round_number=attempt.round)
    send_email(to=attempt.target, subject=subject, body=body)
    return None
