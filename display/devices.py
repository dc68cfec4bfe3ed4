"""The manager's Devices page: /devices/<hall>/ (issue 17, "setting up a device takes no URL
building").

A manager registers a kiosk, display or rating pad here and sets each one up in one of two ways:

* **Set-up link**: the device's ready URL (its page with ``?token=``) and a QR code of it, to
  open on the device or scan with its camera. A fresh token is made each time and shown only
  on this answer (only its hash is kept), so the screen set up before with that device stops
  working: one device, one screen.
* **Pairing code**: a short one-time code (``hall.pairing``) to type on the device's page opened
  without a token, which shows the pairing page. The code works once, for 10 minutes.

Every write is a service of ``hall.services`` / ``hall.pairing`` with its audit event; who may
come here is ``hall.access.MANAGE_DEVICES`` (the hall's managers). The page lives with the
displays because it names their addresses (the counters' screens and rating pads), which the
``hall`` floor cannot read.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from counters.models import Counter
from hall.access import MANAGE_DEVICES, admit_to_hall
from hall.models import Device, DeviceKind, Hall
from hall.pairing import CODE_MINUTES, device_link_make, device_pairing_start
from hall.services import device_register
from hall.views import refusal_page
from queueing.qr import qr_svg

SCREEN = _("Devices")
LOBBY = "lobby"


def device_pages(*, hall: Hall, kind: str, counters: list[Counter]) -> list[tuple[str, str, str]]:
    """The pages a ``kind`` device of ``hall`` may show: (screen key, label, path)."""
    if kind == DeviceKind.KIOSK:
        return [("kiosk", str(_("Ticket kiosk")), reverse("kiosk", args=[hall.code]))]
    if kind == DeviceKind.DISPLAY:
        lobby = [(LOBBY, str(_("Lobby display")), reverse("display:lobby", args=[hall.code]))]
        return lobby + [
            (
                f"counter-{c.number}",
                str(_("Counter %(number)s display") % {"number": c.number}),
                reverse("display:counter", args=[hall.code, c.number]),
            )
            for c in counters
        ]
    return [
        (
            f"counter-{c.number}",
            str(_("Counter %(number)s rating pad") % {"number": c.number}),
            reverse("rating-pad", args=[c.pk]),
        )
        for c in counters
    ]


def _link_panel(request, *, device: Device, token: str, pages, screen: str) -> dict:
    """The ready URLs of ``device`` with ``token``: the chosen ``screen`` first, with its QR."""
    pages = sorted(pages, key=lambda page: page[0] != screen)
    links = [
        {"label": label, "url": request.build_absolute_uri(f"{path}?token={token}")}
        for _key, label, path in pages
    ]
    qr_label = _("QR code of the set-up link of %(device)s") % {"device": device.name or device}
    return {
        "kind": "link",
        "device": device,
        "first": links[0],
        "others": links[1:],
        "qr": qr_svg(links[0]["url"], scale=5, label=str(qr_label)),
    }


def _code_panel(request, *, device: Device, code: str, pairing, pages) -> dict:
    return {
        "kind": "code",
        "device": device,
        "code": code,
        "expires_at": pairing.expires_at.astimezone(device.hall.tz),
        "minutes": CODE_MINUTES,
        "pages": [
            {"label": label, "url": request.build_absolute_uri(path)} for _k, label, path in pages
        ],
    }


@login_required
@refusal_page(screen=SCREEN)
def devices_page(request, hall: str):
    """GET: the hall's devices and the registration form. POST ``action``: ``register`` (kind,
    name), ``link`` (device, screen) or ``code`` (device): the same page with the set-up panel
    of that device, shown this once."""
    hall_obj, _role = admit_to_hall(
        who=request.user, code=hall, action=MANAGE_DEVICES, say_code=False
    )
    counters = list(Counter.objects.filter(hall=hall_obj).order_by("number"))
    devices = list(Device.objects.filter(hall=hall_obj).order_by("kind", "name", "pk"))
    panel = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "register":
            kind = request.POST.get("kind", "")
            name = request.POST.get("name", "").strip()[:100]
            if kind not in DeviceKind.values:
                return HttpResponseBadRequest(_("Choose a kind of device."))
            device, token = device_register(hall=hall_obj, kind=kind, name=name, by=request.user)
            devices = list(Device.objects.filter(hall=hall_obj).order_by("kind", "name", "pk"))
            pages = device_pages(hall=hall_obj, kind=kind, counters=counters)
            panel = _link_panel(request, device=device, token=token, pages=pages, screen="")
            status = 201
        elif action in ("link", "code"):
            device = next((d for d in devices if str(d.pk) == request.POST.get("device", "")), None)
            if device is None or not device.active:
                return HttpResponseBadRequest(_("No such active device in this hall."))
            pages = device_pages(hall=hall_obj, kind=device.kind, counters=counters)
            if action == "link":
                token = device_link_make(device=device, by=request.user)
                screen = request.POST.get("screen", "")
                panel = _link_panel(request, device=device, token=token, pages=pages, screen=screen)
            else:
                pairing, code = device_pairing_start(device=device, by=request.user)
                panel = _code_panel(request, device=device, code=code, pairing=pairing, pages=pages)
        else:
            return HttpResponseBadRequest(_("Unknown action."))
    rows = [
        {
            "device": d,
            "screens": [
                (key, label)
                for key, label, _p in device_pages(hall=hall_obj, kind=d.kind, counters=counters)
            ],
        }
        for d in devices
    ]
    context = {
        "hall": hall_obj,
        "rows": rows,
        "kinds": DeviceKind.choices,
        "panel": panel,
        "code_minutes": CODE_MINUTES,
    }
    response = render(request, "display/devices.html", context, status=status)
    if panel is not None:
        response["Cache-Control"] = "no-store"  # a token or code is on it
    return response
