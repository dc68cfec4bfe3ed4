"""A customer who left a phone number at the kiosk gets a text when greeted ("get ready") and
when called ("your turn, counter N"); each once, never lost, never sent twice."""

import datetime
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone, translation

from counters.services import counter_call_next, counter_open, counter_recall
from queueing.models import NoticeKind, NoticeStatus, PhoneNotice
from queueing.notices import MAX_ATTEMPTS, NoticeFailed, phone_notice_send, phone_notices_resend
from queueing.services import ticket_issue
from queueing.tasks import resend_phone_notices, send_phone_notice
from tests.conftest import counter

pytestmark = pytest.mark.django_db(transaction=True)


def issue(hall, kiosk, phone=""):
    return ticket_issue(hall=hall, business_type_code="payment", phone=phone, device=kiosk).ticket


def call(hall, clerk):
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk)
    return c, counter_call_next(counter_id=c.pk, user=clerk)


class Gateway:
    """A local SMS gateway: records each POST, or answers 503 while ``down``."""

    def __init__(self):
        self.received, self.down = [], False
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if gateway.down:
                    self.send_response(503)
                else:
                    gateway.received.append((dict(self.headers), body))
                    self.send_response(202)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def gateway(settings):
    gateway = Gateway()
    settings.PHONE_NOTICE_WEBHOOK_URL = gateway.url
    settings.PHONE_NOTICE_WEBHOOK_SECRET = "s3cret"
    yield gateway
    gateway.server.shutdown()


def test_the_called_and_the_greeted_customer_each_get_their_text(hall, kiosk, clerk_a, gateway):
    first, second = issue(hall, kiosk, "13800138000"), issue(hall, kiosk, "13900139000")
    c, window = call(hall, clerk_a)
    assert (window.called, window.greeted) == (first, second)

    called = PhoneNotice.objects.get(ticket=first)
    ready = PhoneNotice.objects.get(ticket=second)
    assert called.kind == NoticeKind.CALLED and ready.kind == NoticeKind.GET_READY
    assert f"请{first.number}号到{c.number}号窗口办理业务" in called.text
    assert second.number in ready.text and "准备" in ready.text
    assert {called.status, ready.status} == {NoticeStatus.SENT}

    sent = {json.loads(body)["phone"]: (headers, body) for headers, body in gateway.received}
    assert set(sent) == {"13800138000", "13900139000"}
    headers, body = sent["13800138000"]
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Hallq-Signature"] == f"sha256={expected}"
    assert headers["Idempotency-Key"] == f"notice-{called.pk}"


def test_no_phone_no_notice_and_a_recall_does_not_text_again(hall, kiosk, clerk_a, gateway):
    issue(hall, kiosk)  # no phone
    c, window = call(hall, clerk_a)
    assert not PhoneNotice.objects.exists()

    with_phone = issue(hall, kiosk, "13800138000")
    counter_recall(counter_id=c.pk, user=clerk_a)
    assert not PhoneNotice.objects.filter(ticket=with_phone).exists()
    assert gateway.received == []


def test_a_notice_task_run_twice_sends_once(hall, kiosk, clerk_a, gateway):
    ticket = issue(hall, kiosk, "13800138000")
    call(hall, clerk_a)
    notice = PhoneNotice.objects.get(ticket=ticket)
    assert send_phone_notice.apply(args=[notice.pk]).get() == NoticeStatus.SENT
    assert len(gateway.received) == 1


def test_a_failing_gateway_is_retried_and_the_call_is_not_affected(hall, kiosk, clerk_a, gateway):
    gateway.down = True
    ticket = issue(hall, kiosk, "13800138000")
    c, window = call(hall, clerk_a)  # the task fails after commit; the call stands
    assert window.called == ticket
    notice = PhoneNotice.objects.get(ticket=ticket)
    assert (notice.status, notice.attempts) == (NoticeStatus.PENDING, 1)
    assert "Unavailable" in notice.detail

    with pytest.raises(NoticeFailed):  # the task's retry
        phone_notice_send(notice_id=notice.pk)
    gateway.down = False
    assert phone_notice_send(notice_id=notice.pk) == NoticeStatus.SENT
    notice.refresh_from_db()
    assert notice.attempts == 3 and notice.sent_at is not None
    assert len(gateway.received) == 1


def test_after_the_last_attempt_the_notice_is_marked_failed(hall, kiosk, clerk_a, gateway):
    gateway.down = True
    ticket = issue(hall, kiosk, "13800138000")
    call(hall, clerk_a)
    notice = PhoneNotice.objects.get(ticket=ticket)
    PhoneNotice.objects.filter(pk=notice.pk).update(attempts=MAX_ATTEMPTS - 1)
    assert phone_notice_send(notice_id=notice.pk) == NoticeStatus.FAILED
    assert phone_notice_send(notice_id=notice.pk) == NoticeStatus.FAILED  # and stays so
    assert gateway.received == []


def test_the_sweep_resends_lost_notices_and_frees_dead_claims(hall, kiosk, clerk_a, gateway):
    gateway.down = True
    ticket = issue(hall, kiosk, "13800138000")
    call(hall, clerk_a)
    notice = PhoneNotice.objects.get(ticket=ticket)
    now = timezone.now()
    assert phone_notices_resend(now=now) == []  # its retry is still due

    # A worker died while sending: the claim is stale; the notice is resent by the next sweep.
    PhoneNotice.objects.filter(pk=notice.pk).update(
        status=NoticeStatus.SENDING, claimed_at=now - datetime.timedelta(minutes=11)
    )
    gateway.down = False
    assert resend_phone_notices.apply().get() == 1
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT and len(gateway.received) == 1
    assert resend_phone_notices.apply().get() == 0


def test_without_a_gateway_the_text_is_logged_and_never_marked_sent(hall, kiosk, clerk_a, caplog):
    ticket = issue(hall, kiosk, "13800138000")
    with caplog.at_level("INFO", logger="queueing.notices"):
        call(hall, clerk_a)
    notice = PhoneNotice.objects.get(ticket=ticket)
    assert notice.status == NoticeStatus.LOGGED and notice.detail.startswith("logged")
    assert notice.sent_at is None
    with translation.override("en"):
        assert str(notice.get_status_display()) == "logged, not sent"
    assert ticket.number in caplog.text
