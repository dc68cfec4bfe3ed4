"""Device tokens: ``Authorization: Device <token>`` for kiosks and displays, scoped to one hall."""

import hashlib
import secrets

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from hall.models import Device


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_device_token() -> tuple[str, str]:
    """A fresh token and its hash; only the hash is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def device_for_token(token: str) -> Device | None:
    device = (
        Device.objects.select_related("hall")
        .filter(token_hash=hash_token(token), active=True)
        .first()
    )
    if device is not None and (
        device.last_seen_at is None or (timezone.now() - device.last_seen_at).total_seconds() > 60
    ):
        # Coarse on purpose: one write a minute per device, not one per request.
        Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now())
    return device


class DeviceUser:
    """Stands in for request.user when a device authenticates; it is nobody's account."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, device: Device):
        self.device = device

    def __str__(self) -> str:
        return f"device:{self.device.pk}"


class DeviceAuthentication(authentication.BaseAuthentication):
    keyword = "Device"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Give the device token as 'Device <token>'."))
        try:
            token = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("The device token is not valid.")) from None
        device = device_for_token(token)
        if device is None:
            raise exceptions.AuthenticationFailed(_("Unknown or disabled device token."))
        return DeviceUser(device), device

    def authenticate_header(self, request) -> str:
        return self.keyword


class DeviceAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the device scheme in the OpenAPI schema."""

    target_class = "hall.auth.DeviceAuthentication"
    name = "deviceAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Kiosk or display token: `Device <token>` (manage.py device_token).",
        }
