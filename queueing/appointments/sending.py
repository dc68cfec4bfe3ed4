"""Sending a booking's verification code through the phone notice path (the gateway of
``queueing.notices``, or the log when none is configured)."""

import logging

from queueing.appointments.models import PhoneVerification
from queueing.models import NoticeStatus
from queueing.notices import NoticeFailed, gateway_configured, phone_text_post

log = logging.getLogger(__name__)


def phone_verification_send(*, verification_id: int) -> str:
    """Send one code unless it was sent already (compare-and-set on ``pending``); its status.
    Without a gateway the text is logged, and the row says ``logged`` ("logged, not sent")."""
    claimed = PhoneVerification.objects.filter(
        pk=verification_id, send_status=NoticeStatus.PENDING
    ).update(send_status=NoticeStatus.SENDING)
    if claimed != 1:
        return (
            PhoneVerification.objects.filter(pk=verification_id)
            .values_list("send_status", flat=True)
            .first()
        )
    verification = PhoneVerification.objects.select_related("hall").get(pk=verification_id)
    text = f"【{verification.hall.name}】预约验证码 {verification.code},10分钟内有效。"
    try:
        if gateway_configured():
            payload = {"phone": verification.phone, "text": text, "hall": verification.hall.code}
            detail = phone_text_post(
                payload={**payload, "kind": "verification", "verification": verification.pk},
                idempotency_key=f"verification-{verification.pk}",
            )
            status = NoticeStatus.SENT
        else:
            log.info("phone verification (no gateway configured) %s: %s", verification.pk, text)
            detail, status = "logged: no gateway configured", NoticeStatus.LOGGED
    except NoticeFailed as failure:
        detail, status = str(failure), NoticeStatus.FAILED
    PhoneVerification.objects.filter(pk=verification_id).update(send_status=status, detail=detail)
    return status
