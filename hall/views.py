"""The start page (which screens a signed-in person may open) and signing in and out.

Each screen lives with the app that owns its behaviour: the kiosk, greeter tablet and the
customer's status page in ``queueing/views/``, the clerk console in ``counters/views.py``, the
displays in ``display/views.py``.
"""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

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
