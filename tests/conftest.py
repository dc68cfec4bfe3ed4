"""Named people and a small hall for every test (healthchecks' alice/bob/charlie style).

The hall "h1" is open all day, recalls without a cool-down, and has three business types and
four counters:
counter 1 serves payment and topup, counter 2 serves payment and service, counter 3 is a
VIP-first counter serving everything, counter 4 serves service only. The outsider works in
another hall, "h2".
"""

import datetime
import os
import uuid

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from counters import services as counter_services
from counters.models import Counter, VipMode
from hall.auth import auth_cache_clear
from hall.cache import cache_reset
from hall.models import BusinessType, Role, StaffMembership
from hall.services import device_register, hall_create
from tests.factories import payment_hall


def pytest_configure(config):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # No worker process: the board is computed by the streams' ticker (display/board.py);
    # tests/display/test_board_stream.py also runs it through the worker's task.
    settings.DISPLAY_BOARD_WORKER = False
    # The stream tests count every frame a wall receives; the wall's timed metrics frames are
    # tested on their own (tests/display/test_wall_stream.py turns them on).
    settings.WALL_METRICS_PUSH = False
    settings.ALERT_PLANNER_ADVICE = False  # a search of seconds; tests/recovery/test_alerts.py
    layer = settings.CHANNEL_LAYERS["default"]
    if layer["BACKEND"].startswith("channels_redis"):
        # The xdist workers share one Redis, and each has its own test database where halls
        # get the same ids: without a prefix of its own, a worker's displays would hear the
        # other worker's hall.1 events (seen as gaps, answered with snapshots).
        prefix = f"asgi-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
        settings.CHANNEL_LAYERS = {
            "default": {**layer, "CONFIG": {**layer.get("CONFIG", {}), "prefix": prefix}}
        }
    # The wait estimate caches a hall's history by hall id (queueing.estimates); ids repeat
    # from test to test and from worker to worker: each worker its own keys, each test a clean
    # cache (_fresh_cache).
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": worker}}


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """A clean cache for each test: a key prefix of its own, not cache.clear(), which on Redis
    would flush the whole database under the other xdist worker (its warm cache, Celery's
    queues). Set through the setting, so the cache of every thread has it (a live stream's
    worker thread stores the board that the test then reads)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"{worker}-{uuid.uuid4().hex}"}
    }
    cache_reset()  # hall.cache: this process's kept values and its circuit
    auth_cache_clear()
    counter_services._counter_halls.clear()  # ids repeat from test to test


@pytest.fixture
def hall(db):
    hall = hall_create(
        code="h1",
        name="测试营业厅",
        timezone_name="Asia/Shanghai",
        opens_at=datetime.time(0, 0),
        closes_at=datetime.time(0, 0),
        # The actions' tests recall right after a call; the recall cool-down (issue 16, default
        # 30 s) is tested on its own in tests/counters/test_recall_rules.py.
        recall_cooldown_seconds=0,
    )
    payment = BusinessType.objects.create(
        hall=hall,
        code="payment",
        prefix="A",
        name_zh="缴费",
        name_en="Bill payment",
        expected_service_minutes=3,
    )
    topup = BusinessType.objects.create(
        hall=hall,
        code="topup",
        prefix="B",
        name_zh="预存",
        name_en="Top-up",
        expected_service_minutes=3,
    )
    service = BusinessType.objects.create(
        hall=hall,
        code="service",
        prefix="C",
        name_zh="业务受理",
        name_en="Service application",
        expected_service_minutes=12,
        needs_id=True,
    )
    for number, served, vip_mode in (
        (1, [payment, topup], VipMode.NONE),
        (2, [payment, service], VipMode.NONE),
        (3, [payment, topup, service], VipMode.VIP_FIRST),
        (4, [service], VipMode.NONE),
    ):
        counter = Counter.objects.create(hall=hall, number=number, vip_mode=vip_mode)
        counter.business_types.set(served)
    return hall


@pytest.fixture
def services_of_fixed_length(monkeypatch):
    """Every business type's services take exactly their mean (cv 0, as a history of equal
    services would show): the forecast's sampled replays all agree, so an estimate is the
    walk-through of the router a test can write down, and its bands are that one figure."""
    from queueing import selectors

    real = selectors.service_stats

    def fixed(**kwargs):
        means, _cvs = real(**kwargs)
        return means, dict.fromkeys(means, 0.0)

    monkeypatch.setattr(selectors, "service_stats", fixed)


@pytest.fixture
def other_hall(db):
    return payment_hall("h2", "其他营业厅")


def _person(django_user_model, username, hall, role):
    user = django_user_model.objects.create_user(username=username, password="pw")
    if hall is not None:
        StaffMembership.objects.create(user=user, hall=hall, role=role)
    return user


@pytest.fixture
def greeter(django_user_model, hall):
    return _person(django_user_model, "greeter", hall, Role.GREETER)


@pytest.fixture
def clerk_a(django_user_model, hall):
    return _person(django_user_model, "clerk_a", hall, Role.CLERK)


@pytest.fixture
def clerk_b(django_user_model, hall):
    return _person(django_user_model, "clerk_b", hall, Role.CLERK)


@pytest.fixture
def manager(django_user_model, hall):
    return _person(django_user_model, "manager", hall, Role.MANAGER)


@pytest.fixture
def outsider(django_user_model, other_hall):
    return _person(django_user_model, "outsider", other_hall, Role.MANAGER)


@pytest.fixture
def kiosk(hall):
    device, token = device_register(hall=hall, kind="kiosk", name="kiosk 1")
    device.token = token
    return device


@pytest.fixture
def display_device(hall):
    device, token = device_register(hall=hall, kind="display", name="lobby")
    device.token = token
    return device


@pytest.fixture
def other_kiosk(other_hall):
    device, token = device_register(hall=other_hall, kind="kiosk", name="kiosk h2")
    device.token = token
    return device


def counter(hall, number: int) -> Counter:
    return Counter.objects.get(hall=hall, number=number)


@pytest.fixture
def api():
    """An API client; ``api.as_user(user)`` and ``api.as_device(device)`` switch identity."""

    class Client(APIClient):
        def as_user(self, user):
            self.credentials()
            self.force_authenticate(user=user)
            return self

        def as_device(self, device):
            self.force_authenticate(user=None)
            self.credentials(HTTP_AUTHORIZATION=f"Device {device.token}")
            return self

    return Client()
