"""What every page of the product shares in its views."""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from hall.auth import device_for_token
from hall.models import Hall
from hall.selectors import staff_role


class Refused(Exception):
    """This person or device may not open the page, and why: ``status`` is 403 or 404 and
    ``message`` the (translatable) reason the refusal page shows."""

    def __init__(self, status: int, message):
        super().__init__(str(message))
        self.status, self.message = status, message


def refused_page(request, *, screen, message, status: int):
    """The page that says why ``screen`` cannot open, with the way back to the start page."""
    context = {"screen": screen, "message": message, "status": status}
    return render(request, "hall/refused.html", context, status=status)


def role_in(*, user, hall: Hall, roles, refusal) -> str:
    """The user's role in ``hall`` if it is one of ``roles``; else refused (403, ``refusal``)."""
    role = staff_role(user=user, hall=hall)
    if role not in roles:
        raise Refused(403, refusal)
    return role


def staff_hall(*, user, code: str, roles, refusal) -> tuple[Hall, str]:
    """The hall with ``code`` (else 404) and the user's role there (see ``role_in``)."""
    hall = Hall.objects.filter(code=code).first()
    if hall is None:
        raise Refused(404, _("No hall with this code."))
    return hall, role_in(user=user, hall=hall, roles=roles, refusal=refusal)


def device_or_staff(
    request,
    hall: Hall,
    *,
    kinds,
    wrong_device,
    no_credentials,
    staff_roles=None,
    not_staff=None,
) -> str:
    """Who opens a device page: the ``?token=`` of an enabled device of one of ``kinds`` of this
    hall (returned, for the page's scripts), or a signed-in member of the hall's staff (in
    ``staff_roles`` if given; returns ""). Otherwise refused (403) with the matching reason."""
    token = request.GET.get("token", "")
    if token:
        device = device_for_token(token)
        if device is None:
            raise Refused(403, _("This device token is unknown or disabled."))
        if device.hall_id != hall.pk or device.kind not in kinds:
            raise Refused(403, wrong_device)
        return token
    if not request.user.is_authenticated:
        raise Refused(403, no_credentials)
    role = staff_role(user=request.user, hall=hall)
    if role is None or (staff_roles is not None and role not in staff_roles):
        raise Refused(403, not_staff or _("You are not on this hall's staff."))
    return ""
