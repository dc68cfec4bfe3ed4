"""What the incident and escalation tests share: the billing support team (a responsible
department with a webhook, two e-mail addresses and a regional contact) and a fake webhook
receiver that records each POST and answers with the statuses it is given."""

import datetime
import io
import json
import urllib.error
import zoneinfo

import pytest

from hall.models import Department
from recovery.models import DepartmentRoute

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = datetime.date(2026, 3, 2)
HOOK_URL = "http://hooks.billing.test/hallq"
SECRET = "billing-team-secret"


def at(hour: int, minute: int = 0, second: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(DAY, datetime.time(hour, minute, second), tzinfo=SHANGHAI)


@pytest.fixture
def billing_team(db):
    """Answers for billing-system faults in every hall: notified every 10 minutes, the hall
    manager after 30, the region after 60."""
    team = Department.objects.create(
        name="计费支撑中心",
        webhook_url=HOOK_URL,
        webhook_secret=SECRET,
        emails="noc@billing.test\nduty@billing.test",
        escalation_contacts="region@operator.test",
        renotify_minutes=10,
        manager_after_minutes=30,
        regional_after_minutes=60,
    )
    DepartmentRoute.objects.create(department=team, kind="billing")
    return team


@pytest.fixture
def manager_with_mail(manager):
    manager.email = "manager@h1.test"
    manager.save(update_fields=["email"])
    return manager


class FakeWebhook:
    """Stands in for urllib.request.urlopen: records each request; answers with the next status
    of ``statuses`` (the last one repeats), or raises ``error`` (connection refused)."""

    def __init__(self):
        self.statuses = [200]
        self.error = None
        self.requests = []

    def __call__(self, request, timeout=None):
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if status >= 400:
            raise urllib.error.HTTPError(request.full_url, status, "error", {}, io.BytesIO())
        response = io.BytesIO(b"ok")
        response.status = status
        return response

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(r.data) for r in self.requests]

    def events(self) -> list[str]:
        return [b["event"] for b in self.bodies]


@pytest.fixture
def webhook(monkeypatch):
    fake = FakeWebhook()
    monkeypatch.setattr("recovery.escalation_delivery.urllib.request.urlopen", fake)
    return fake
