"""Device tokens: ``Authorization: Device <token>`` for kiosks and displays, scoped to one hall;
and the staff's API tokens (``Authorization: Token <t>``).

Both are cached in the process for ``AUTH_CACHE_SECONDS`` (10 s): every counter action and
every kiosk issue would otherwise start with a query for its caller. A token revoked, a device
disabled or a user deactivated is refused at once in the process that made the change (the
signals below drop its entry) and within 10 s everywhere else.
"""

import hashlib
import secrets
import threading
import time

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from hall.models import Device

AUTH_CACHE_SECONDS = 10.0
AUTH_CACHE_MAX = 10_000


class _Recent:
    """A small per-process map that forgets entries after ``AUTH_CACHE_SECONDS``."""

    def __init__(self):
        self._entries: dict = {}
        self._lock = threading.Lock()

    def get(self, key):
        hit = self._entries.get(key)
        if hit is None or time.monotonic() - hit[0] > AUTH_CACHE_SECONDS:
            return None
        return hit[1]

    def put(self, key, value) -> None:
        with self._lock:
            if len(self._entries) >= AUTH_CACHE_MAX:
                self._entries.clear()
            self._entries[key] = (time.monotonic(), value)

    def drop(self, match) -> None:
        with self._lock:
            for key in [k for k, (_, v) in self._entries.items() if match(k, v)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_devices = _Recent()  # token hash -> Device
_tokens = _Recent()  # token key -> (user, token)


def auth_cache_clear() -> None:
    """Forget every cached caller (tests)."""
    _devices.clear()
    _tokens.clear()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_device_token() -> tuple[str, str]:
    """A fresh token and its hash; only the hash is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def device_for_token(token: str) -> Device | None:
    token_hash = hash_token(token)
    device = _devices.get(token_hash)
    if device is None:
        device = (
            Device.objects.select_related("hall").filter(token_hash=token_hash, active=True).first()
        )
        if device is not None:
            _devices.put(token_hash, device)
    if device is not None and (
        device.last_seen_at is None or (timezone.now() - device.last_seen_at).total_seconds() > 60
    ):
        # Coarse on purpose: one write a minute per device, not one per request.
        device.last_seen_at = timezone.now()
        Device.objects.filter(pk=device.pk).update(last_seen_at=device.last_seen_at)
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


class CachedTokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication with the caller cached (``AUTH_CACHE_SECONDS``)."""

    def authenticate_credentials(self, key):
        cached = _tokens.get(key)
        if cached is not None:
            return cached
        user, token = super().authenticate_credentials(key)
        _tokens.put(key, (user, token))
        return user, token


def _forget_device(sender, instance, **kwargs):
    _devices.drop(lambda token_hash, device: device.pk == instance.pk)


def _forget_token(sender, instance, **kwargs):
    _tokens.drop(lambda key, cached: key == instance.key)


def _forget_user(sender, instance, **kwargs):
    _tokens.drop(lambda key, cached: cached[0].pk == instance.pk)


post_save.connect(_forget_device, sender=Device, dispatch_uid="hall.auth.device_saved")
post_delete.connect(_forget_device, sender=Device, dispatch_uid="hall.auth.device_deleted")
post_save.connect(_forget_token, sender=Token, dispatch_uid="hall.auth.token_saved")
post_delete.connect(_forget_token, sender=Token, dispatch_uid="hall.auth.token_deleted")
post_save.connect(_forget_user, sender=get_user_model(), dispatch_uid="hall.auth.user_saved")
