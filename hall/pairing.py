"""Setting up a device without building a URL (issue 17): the writes.

Two ways to put a registered device's token into the browser that will be that device:

* **A set-up link** (``device_link_make``): the manager asks for the device's ready URL; a fresh
  token is made and shown once, as the URL with ``?token=`` and its QR code. The device's
  previous token stops working (only its hash is stored, so an old one cannot be shown again).
* **A pairing code** (``device_pairing_start``): the manager asks for a short one-time code
  (``CODE_LENGTH`` letters and digits, valid ``CODE_MINUTES`` minutes, once); the device opens
  its page without a token, gets the pairing page, and enters it (``device_pair``), which makes
  the device's fresh token and hands it to that browser.

Either way the device has one token at a time: the browser set up last is the device.

Guessing is throttled: ``device_pair`` refuses (429) while the hall has had
``HALL_FAILURES_ALLOWED`` wrong codes, or the address ``ADDRESS_FAILURES_ALLOWED``, in the last
``THROTTLE_MINUTES``. With 31 symbols and 6 places (~887 million codes) and at most a few live at
once, that leaves a guesser no chance worth the name. Every attempt is a ``PairingAttempt`` row;
every code made and every pairing an audit event of the hall (no code and no token in it).

The address counted is the request's ``REMOTE_ADDR``. Behind a reverse proxy that is the proxy's,
so the per-address limit then acts for the whole hall (5 wrong codes in 10 minutes): strict, but
it never lets a guesser through. (X-Forwarded-For is not read: a client can write it.)
"""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import status

from hall.auth import new_device_token
from hall.models import Device, DevicePairing, EventKind, Hall, PairingAttempt
from hall.services import event_record

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a screen, typed
CODE_LENGTH = 6
CODE_MINUTES = 10
THROTTLE_MINUTES = 10
ADDRESS_FAILURES_ALLOWED = 5
HALL_FAILURES_ALLOWED = 30


class PairingRefused(Exception):
    """A code refused on a device's pairing page (``hall.views.pairing_page``): ``message`` and
    ``status_code`` for the page. Not a ``DomainError``: no API endpoint answers it."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_message = _("The code was refused.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(self.message)


class PairingCodeWrong(PairingRefused):
    default_message = _(
        "This code is not valid for this hall: it may be mistyped, expired or already used. "
        "Ask the manager for a new code."
    )


class PairingCodeOtherKind(PairingRefused):
    default_message = _("This code is for another kind of device.")


class PairingThrottled(PairingRefused):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_message = _("Too many wrong codes. Wait a few minutes, then try again.")


def code_normalise(text: str) -> str:
    """What was typed, as a code: upper case, without spaces or dashes."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")


def _code_hash(hall: Hall, code: str) -> str:
    return hashlib.sha256(f"{hall.pk}:{code}".encode()).hexdigest()


def _token_replace(device: Device) -> str:
    """A fresh token for ``device``; its previous one stops working. ``save`` (not ``update``)
    so the authentication cache of this process forgets the old token at once (hall.auth)."""
    token, token_hash = new_device_token()
    device.token_hash = token_hash
    device.save(update_fields=["token_hash"])
    return token


@transaction.atomic
def device_link_make(*, device: Device, by) -> str:
    """A fresh token for ``device`` to put in its ready URL (shown once); the previous token of
    the device stops working. Lock: the device row, so two managers do not both show a token of
    which only one works."""
    device = Device.objects.select_for_update(of=("self",)).select_related("hall").get(pk=device.pk)
    token = _token_replace(device)
    event_record(
        hall=device.hall,
        kind=EventKind.DEVICE_LINK_MADE,
        actor=by,
        device=device,
        data={"device": device.pk, "kind": device.kind, "name": device.name},
    )
    return token


@transaction.atomic
def device_pairing_start(*, device: Device, by) -> tuple[DevicePairing, str]:
    """A new one-time code for ``device`` (returned once, with its pairing row); the device's
    earlier unused codes are withdrawn (they expire now)."""
    now = timezone.now()
    live = DevicePairing.objects.filter(device=device, used_at__isnull=True, expires_at__gt=now)
    live.update(expires_at=now)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    pairing = DevicePairing.objects.create(
        hall=device.hall,
        device=device,
        code_hash=_code_hash(device.hall, code),
        created_by=by if getattr(by, "pk", None) else None,
        created_at=now,
        expires_at=now + timedelta(minutes=CODE_MINUTES),
    )
    event_record(
        hall=device.hall,
        kind=EventKind.DEVICE_PAIRING_CODE,
        actor=by,
        device=device,
        data={"device": device.pk, "kind": device.kind, "expires_at": pairing.expires_at},
    )
    return pairing, code


def _throttled(*, hall: Hall, address: str | None, now) -> bool:
    since = now - timedelta(minutes=THROTTLE_MINUTES)
    wrong = PairingAttempt.objects.filter(hall=hall, at__gt=since, paired=False)
    if wrong.count() >= HALL_FAILURES_ALLOWED:
        return True
    return bool(address) and wrong.filter(address=address).count() >= ADDRESS_FAILURES_ALLOWED


def device_pair(
    *, hall: Hall, kind: str, code: str, address: str | None = None, page: str = ""
) -> tuple[Device, str]:
    """Bind the browser that entered ``code`` on a ``kind`` device page of ``hall``: the device
    and its fresh token (the previous one stops working). Refuses a wrong, expired, used or
    other hall's code (``PairingCodeWrong``, 400) and a code of another kind of device
    (``PairingCodeOtherKind``, 400), changing nothing but the attempt's row; and any code while
    guessing is throttled (``PairingThrottled``, 429).

    Single use under concurrency: the code is claimed by a compare-and-set on ``used_at``; of two
    browsers entering it at once, one gets a row count of 0 and is refused."""
    now = timezone.now()
    entered = code_normalise(code)
    if _throttled(hall=hall, address=address, now=now):
        PairingAttempt.objects.create(
            hall=hall, at=now, address=address, page=page[:200], outcome="throttled"
        )
        raise PairingThrottled()
    with transaction.atomic():
        pairing = (
            DevicePairing.objects.select_related("device")
            .filter(
                hall=hall,
                code_hash=_code_hash(hall, entered),
                used_at__isnull=True,
                expires_at__gt=now,
                device__active=True,
            )
            .first()
            if len(entered) == CODE_LENGTH
            else None
        )
        refusal = None
        if pairing is None:
            refusal, outcome = PairingCodeWrong(), "wrong"
        elif pairing.device.kind != kind:
            refusal, outcome = PairingCodeOtherKind(), "other_kind"
        elif not DevicePairing.objects.filter(pk=pairing.pk, used_at__isnull=True).update(
            used_at=now
        ):
            refusal, outcome = PairingCodeWrong(), "wrong"  # used by another browser meanwhile
        if refusal is None:
            device = pairing.device
            token = _token_replace(device)
            PairingAttempt.objects.create(
                hall=hall,
                at=now,
                address=address,
                page=page[:200],
                paired=True,
                pairing=pairing,
                outcome="paired",
            )
            event_record(
                hall=hall,
                kind=EventKind.DEVICE_PAIRED,
                actor=pairing.created_by,
                device=device,
                data={"device": device.pk, "kind": device.kind, "page": page[:200]},
                at=now,
            )
            return device, token
    # Outside the transaction above, which changed nothing: the record of a wrong attempt.
    PairingAttempt.objects.create(
        hall=hall, at=now, address=address, page=page[:200], pairing=pairing, outcome=outcome
    )
    raise refusal
