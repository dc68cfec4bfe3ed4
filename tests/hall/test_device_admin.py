"""Registering a device in the admin shows its ready URL once, and each device links to the
hall's Devices page (QR code, other pages, pairing code)."""

import re

import pytest
from django.test import Client

from hall.auth import device_for_token
from hall.models import AuditEvent, Device, EventKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(django_user_model):
    user = django_user_model.objects.create_superuser(username="root", password="pw")
    client = Client()
    client.force_login(user)
    return client


def test_a_kiosk_added_in_the_admin_shows_its_ready_url_and_the_devices_page(hall, admin_client):
    response = admin_client.post(
        "/admin/hall/device/add/",
        {"hall": hall.pk, "kind": "kiosk", "name": "Door", "active": "on"},
        follow=True,
    )
    html = response.content.decode()
    url = re.search(r"http://testserver/kiosk/h1/\?token=([\w-]+)", html)
    device = Device.objects.get(name="Door")
    assert device_for_token(url.group(1)).pk == device.pk
    assert 'href="/devices/h1/"' in html
    assert AuditEvent.objects.filter(kind=EventKind.DEVICE_REGISTERED, device=device).exists()
    listing = admin_client.get("/admin/hall/device/").content.decode()
    assert 'href="/devices/h1/"' in listing


def test_the_admin_lists_pairing_attempts_read_only(hall, admin_client):
    assert admin_client.get("/admin/hall/pairingattempt/").status_code == 200
    assert admin_client.get("/admin/hall/devicepairing/").status_code == 200
    assert admin_client.get("/admin/hall/pairingattempt/add/").status_code == 403
