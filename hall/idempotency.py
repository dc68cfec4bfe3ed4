"""``Idempotency-Key`` for POSTs: the effect happens once and repeats get the first response.

The key is claimed by inserting a row in the same transaction as the effect. A concurrent
repeat blocks on the unique constraint until the first transaction ends: if it committed, the
repeat gets its stored response; if it failed, the claim is gone and the repeat runs afresh.
Failed requests (4xx) store nothing, because they changed nothing.
"""

import functools
import hashlib
import json

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from hall.auth import DeviceUser
from hall.errors import IdempotencyKeyReused, InvalidInput
from hall.models import IdempotentRequest

HEADER = "Idempotency-Key"
IDEMPOTENCY_HEADER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Replays with the same key have the effect once and get the first response.",
)
MAX_KEY_LENGTH = 200


def _scope(request) -> str:
    if request.user is None:  # a public endpoint (booking): the key is the client's alone
        return "public"
    if isinstance(request.user, DeviceUser):
        return f"device:{request.user.device.pk}"
    return f"user:{request.user.pk}"


def _fingerprint(request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, default=str)
    except TypeError:
        body = repr(request.data)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(view_method):
    """Wrap a DRF view method (``post``) so that it honours ``Idempotency-Key``."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(self, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidInput(
                _("%(header)s must be 1 to %(max)s characters.")
                % {"header": HEADER, "max": MAX_KEY_LENGTH},
                fields={HEADER: "invalid length"},
            )
        scope, fingerprint = _scope(request), _fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    claim = IdempotentRequest.objects.create(
                        scope=scope, key=key, fingerprint=fingerprint
                    )
            except IntegrityError:
                first = IdempotentRequest.objects.get(scope=scope, key=key)
                if first.fingerprint != fingerprint:
                    raise IdempotencyKeyReused() from None
                return Response(
                    first.response,
                    status=first.status_code,
                    headers={"Idempotent-Replayed": "true"},
                )
            response = view_method(self, request, *args, **kwargs)
            claim.status_code = response.status_code
            claim.response = response.data
            claim.save(update_fields=["status_code", "response"])
            return response

    return wrapper
