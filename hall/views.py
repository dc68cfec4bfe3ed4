"""The start page (which screens a signed-in person may open), signing in and out, and the one
page every screen shows when it refuses someone (``refusal_page``).

Each screen lives with the app that owns its behaviour: the kiosk, greeter tablet and the
customer's status page in ``queueing/views/``, the clerk console in ``counters/views/``, the
displays in ``display/views.py``.
"""

import functools

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hall.access import REFUSALS
from hall.i18n import in_both_languages
from hall.models import Hall, Role, StaffMembership

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

    A page answers 403 to a caller with no credentials at all (the 401 of the API and the
    streams): there is no challenge a browser could answer, and the page says how to sign in."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
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
