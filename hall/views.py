"""The start page (which screens a signed-in person may open), signing in and out, and the one
page every screen shows when it refuses someone (``refusal_page``).

Each screen lives with the app that owns its behaviour: the kiosk, greeter tablet and the
customer's status page in ``queueing/views/``, the clerk console in ``counters/views/``, the
displays in ``display/views.py``.
"""

import functools
from urllib.parse import urlencode

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hall.access import DEVICE_COOKIE, REFUSALS, PairingNeeded
from hall.i18n import in_both_languages
from hall.models import DeviceKind, Hall, Role, StaffMembership
from hall.pairing import CODE_LENGTH, PairingRefused, device_pair

# Which screens each role may open, in the order a newcomer would look for them.
SCREENS = {
    Role.GREETER: ["greeter", "kiosk", "lobby"],
    Role.CLERK: ["console", "complaints", "lobby"],
    Role.MANAGER: [
        "console",
        "complaints",
        "greeter",
        "kiosk",
        "lobby",
        "wall",
        "planner",
        "reports",
        "devices",
    ],
}
SCREEN_NAMES = {
    "console": (_("Clerk console"), "console"),
    "complaints": (_("Complaints"), "complaints-page"),
    "greeter": (_("Greeter tablet"), "greeter"),
    "kiosk": (_("Ticket kiosk"), "kiosk"),
    "lobby": (_("Lobby display"), "display:lobby"),
    "planner": (_("Staffing planner"), "planner"),
    "wall": (_("Hall wall"), "wall"),
    "reports": (_("Daily reports"), "reports"),
    "devices": (_("Devices"), "devices"),
}


def _halls_of(user) -> list[tuple[Hall, str]]:
    if user.is_superuser:
        return [(hall, Role.MANAGER) for hall in Hall.objects.all()]
    memberships = StaffMembership.objects.filter(user=user).select_related("hall")
    return [(m.hall, m.role) for m in memberships.order_by("hall__code")]


@login_required
def home(request):
    """/: the screens of each hall the signed-in person works in."""
    halls = []
    for hall, role in _halls_of(request.user):
        screens = []
        for screen in SCREENS[role]:
            label, url_name = SCREEN_NAMES[screen]
            screens.append({"label": label, "url": reverse(url_name, args=[hall.code])})
        halls.append({"hall": hall, "role": Role(role).label, "screens": screens})
    admin_link = reverse("admin:index") if request.user.is_staff else None
    return render(request, "hall/home.html", {"halls": halls, "admin_link": admin_link})


class LoginView(auth_views.LoginView):
    template_name = "hall/login.html"
    redirect_authenticated_user = True


def refusal_page(*, screen, template: str = "hall/refused.html", text_only: bool = False):
    """The one mapping of a refusal (``hall.access.REFUSALS``) to a page: a view so decorated
    answers a refusal with ``template`` (``screen``, ``message``, its ``message_both``
    languages, ``status``), or with the message alone (``text_only``: a fragment a script
    shows as is).

    A device page (``hall.access.device_page_caller``) opened by nobody answers with its pairing
    page instead (``pairing_page``).

    A page answers 403 to a caller with no credentials at all (the 401 of the API and the
    streams): there is no challenge a browser could answer, and the page says how to sign in."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except PairingNeeded as needed:
                return pairing_page(request, needed)
            except REFUSALS as refusal:
                status = 403 if refusal.status_code == 401 else refusal.status_code
                if text_only:
                    return HttpResponse(str(refusal.message), status=status)
                context = {
                    "screen": screen,
                    "message": refusal.message,
                    "message_both": in_both_languages(refusal.message),
                    "status": status,
                }
                return render(request, template, context, status=status)

        return wrapped

    return decorate


# What the pairing page calls the device it sets up, in both languages at once.
PAIRING_KINDS = {
    DeviceKind.KIOSK: _("Ticket kiosk"),
    DeviceKind.DISPLAY: _("Display"),
    DeviceKind.RATING_PAD: _("Rating pad"),
}
PAIRING_TEXT = {
    "title": _("Set up this screen"),
    "lead": _("Enter the pairing code shown to the hall's manager on the Devices page."),
    "code": _("Pairing code"),
    "pair": _("Pair this screen"),
    "hint": _("The code has 6 letters and digits, works once, and expires after 10 minutes."),
    "staff": _("Hall staff may sign in instead"),
}
DEVICE_COOKIE_SECONDS = 400 * 24 * 3600  # as long as browsers keep a cookie


def pairing_page(request, needed: PairingNeeded):
    """The page a device page shows to nobody (``PairingNeeded``): a form for the one-time
    code from the hall's manager. GET: the form (403: the page itself is not open to this
    browser yet). POST with the right code: the browser becomes the device (its token in a
    cookie for this page, and a 303 to the page's ready URL with ``?token=``). A wrong, expired,
    used or other hall's code: the form again with why (400; 429 while guessing is throttled),
    nothing changed but the attempt's record (``hall.pairing.device_pair``)."""
    error, status = None, 403
    if request.method == "POST":
        try:
            device, token = device_pair(
                hall=needed.hall,
                kind=needed.kind,
                code=request.POST.get("code", ""),
                address=request.META.get("REMOTE_ADDR") or None,
                page=request.path,
            )
        except PairingRefused as refusal:
            error, status = refusal.message, refusal.status_code
        else:
            query = {k: v for k, v in request.GET.items() if k != "token"}
            query["token"] = token
            response = HttpResponseRedirect(f"{request.path}?{urlencode(query)}", status=303)
            response.set_cookie(
                DEVICE_COOKIE,
                token,
                max_age=DEVICE_COOKIE_SECONDS,
                path=request.path,
                secure=request.is_secure(),
                httponly=True,
                samesite="Lax",
            )
            return response
    context = {
        "hall": needed.hall,
        "kind": in_both_languages(PAIRING_KINDS[needed.kind]),
        "t": {key: in_both_languages(text) for key, text in PAIRING_TEXT.items()},
        "refused": in_both_languages(needed.message) if needed.token_refused else None,
        "error": in_both_languages(error) if error else None,
        "code_length": CODE_LENGTH,
    }
    response = render(request, "hall/pair.html", context, status=status)
    if needed.token_refused and not request.GET.get("token") and request.COOKIES.get(DEVICE_COOKIE):
        response.delete_cookie(DEVICE_COOKIE, path=request.path)
    return response
