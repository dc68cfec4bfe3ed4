"""Who may do what, where: the one admission rule.

Every caller is a *principal*: a person (a user, with a role in some halls) or a device (a
kiosk, display or rating pad, of one hall). Every place that lets a caller in (the API views, the
pages, the WebSocket consumers and the services) asks ``admit(who=..., hall=..., action=...)``,
which answers the caller's role or device kind, or raises ``Refused``. ``RULES`` is the whole
table of who may do what; ``tests/test_admission_table.py`` walks it through every endpoint.

``Refused`` is the one refusal (403, or 401 for a caller who is nobody; an object that does not
exist, or that the caller may not learn of, is ``NotFound``, 404: ``REFUSALS`` holds both). Each
channel maps them once: the API's exception handler to the error shape (``hall/errors.py``: both
are ``DomainError``s), ``hall.views.refusal_page`` to the refusal page, ``display.consumers`` to
the close code.

Admission is decided before the request's input is read: a caller who may not act here gets 403
whatever they sent, never the 400 of a body nobody should have looked at.

What the rules do not say, because it depends on the object rather than the caller's role, stays
with the object's service: a clerk acts only at the counter they are signed in at, and may not
rate a ticket they served; only a manager issues outside opening hours.

**A greeter and incidents** (DOMAIN: the greeter stands at the door, not at the systems): a
greeter *sees* the hall's incidents (``SEE_INCIDENTS``: the list, the apologies on the kiosk,
tablet and displays) but may not report, acknowledge or resolve one (``HANDLE_INCIDENT``: the
hall's clerks and managers, who are at the systems and answer for the fault).

**Devices' pages** (issue 17): a device page (kiosk, lobby or counter display, rating pad) asks
``device_page_caller``: the device of its ``?token=``, else of the browser's device cookie (set
when the browser was paired), else the signed-in person. Nobody at all, or a token that no
longer works, is ``PairingNeeded``: the page answers with its pairing page, where a one-time code
from the hall's manager (``MANAGE_DEVICES``) binds the browser to a device
(``hall.pairing.device_pair``). The code is the credential there: whoever holds a live one may
enter it, once, on a page of its hall and kind.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from rest_framework import status

from hall.auth import device_for_token
from hall.errors import Forbidden, NotFound
from hall.models import Device, DeviceKind, Hall, Role, StaffMembership
from hall.selectors import NOT_READ, staff_role


class Refused(Forbidden):
    """This caller may not do this here (403), or is nobody (401: ``nobody=True``). ``message``
    is the (translatable) reason shown to them."""

    def __init__(self, message=None, *, nobody: bool = False, **kwargs):
        super().__init__(message, **kwargs)
        if nobody:
            self.status_code, self.code = status.HTTP_401_UNAUTHORIZED, "not_authenticated"


# What a page or a stream maps to its refusal: may not, and not there.
REFUSALS = (Refused, NotFound)


@dataclass(frozen=True)
class Rule:
    """Who may do one action in a hall: these staff roles and these kinds of device of the hall.

    ``refusal`` is what a person without one of ``roles`` is told; ``device_refusal`` what a
    device of another kind is told, ``foreign_device`` a device of another hall (the same words
    unless given); ``nobody`` what a caller with no credentials is told."""

    roles: tuple[str, ...]
    devices: tuple[str, ...]
    refusal: str
    device_refusal: str = _("This device belongs to another hall or may not do this.")
    nobody: str = _("Staff only: sign in with a staff account.")
    foreign_device: str | None = None
    # Open to anyone, signed in or not (a customer booking on their phone): ``admit`` answers
    # "public". What guards it is the service's (a one-time code sent to the phone).
    public: bool = False


ANY_STAFF = (Role.GREETER, Role.CLERK, Role.MANAGER)
SCREENS = (DeviceKind.DISPLAY, DeviceKind.KIOSK)
NOT_STAFF = _("You are not on this hall's staff.")

# The actions; each is a key of RULES.
SEE_HALL = "hall.see"  # business types, counters, snapshot, the lobby's and counter's pages
WATCH_HALL = "hall.watch"  # the hall's stream (the lobby, kiosk, greeter tablet, console)
WATCH_COUNTER = "counter.watch"  # one counter's stream (its rating pad listens for finishes)
ISSUE_TICKET = "ticket.issue"
HANDLE_TICKET = "ticket.handle"  # read one, cancel, transfer a waiting ticket
RATE_TICKET = "ticket.rate"
ACT_AT_COUNTER = "counter.act"  # open, call, serve, pause ... (and the clerk console)
SEE_FIGURES = "hall.figures"  # the wall's metrics and stream, the apology log
SEE_INCIDENTS = "incident.see"
HANDLE_INCIDENT = "incident.handle"  # report, acknowledge, resolve
HANDLE_COMPLAINT = "complaint.handle"
READ_REPORTS = "report.read"
OPEN_CONSOLE = "console.open"  # the clerk console, its fragments and the console hall list
OPEN_WALL = "wall.open"
OPEN_GREETER = "greeter.open"
OPEN_KIOSK = "kiosk.open"
OPEN_PLANNER = "planner.open"
OPEN_RATING_PAD = "rating_pad.open"
MANAGE_DEVICES = "device.manage"  # register devices, show their set-up links and pairing codes
BOOK = "booking.book"  # see the bookable slots, ask for a phone code, book, cancel (public)

RULES: dict[str, Rule] = {
    SEE_HALL: Rule(
        ANY_STAFF,
        SCREENS,
        NOT_STAFF,
        _("This device is not a display or kiosk of this hall."),
        _("This screen needs a device token (?token=…) or a staff sign-in."),
    ),
    WATCH_HALL: Rule(
        ANY_STAFF,
        SCREENS,
        NOT_STAFF,
        _("This device belongs to another hall."),
        _("Give a device token (?token=) or sign in."),
    ),
    WATCH_COUNTER: Rule(
        ANY_STAFF,
        (*SCREENS, DeviceKind.RATING_PAD),
        NOT_STAFF,
        _("This device belongs to another hall."),
        _("Give a device token (?token=) or sign in."),
    ),
    ISSUE_TICKET: Rule(
        ANY_STAFF,
        (DeviceKind.KIOSK,),
        _("Only this hall's staff or kiosks may issue tickets."),
        _("This device may not issue tickets in this hall."),
    ),
    HANDLE_TICKET: Rule(ANY_STAFF, (), _("You are not on this ticket's hall staff.")),
    RATE_TICKET: Rule(
        ANY_STAFF,
        (DeviceKind.RATING_PAD,),
        _("Only this hall's rating pads and staff may record ratings."),
        _("Only a rating pad may record ratings."),
        foreign_device=_("This rating pad belongs to another hall."),
    ),
    ACT_AT_COUNTER: Rule(
        (Role.CLERK, Role.MANAGER),
        (),
        _("Only the clerk signed in at this counter or a manager may act on it."),
    ),
    SEE_FIGURES: Rule(
        ANY_STAFF, (), NOT_STAFF, _("This stream is for the hall's staff, not devices.")
    ),
    SEE_INCIDENTS: Rule(ANY_STAFF, (), NOT_STAFF),
    HANDLE_INCIDENT: Rule(
        (Role.CLERK, Role.MANAGER),
        (),
        _("Only this hall's clerks and managers may report or handle faults."),
    ),
    HANDLE_COMPLAINT: Rule(
        (Role.CLERK, Role.MANAGER),
        (),
        _("Complaints are for the hall's clerks and managers."),
    ),
    READ_REPORTS: Rule((Role.MANAGER,), (), _("Reports are for this hall's managers.")),
    OPEN_CONSOLE: Rule(
        (Role.CLERK, Role.MANAGER),
        (),
        _("The clerk console is for this hall's clerks and managers."),
    ),
    OPEN_WALL: Rule(
        (Role.CLERK, Role.MANAGER), (), _("The wall is for this hall's managers and clerks.")
    ),
    OPEN_GREETER: Rule(
        (Role.GREETER, Role.MANAGER),
        (),
        _("The greeter tablet is for this hall's greeters and managers."),
    ),
    OPEN_KIOSK: Rule(
        (Role.GREETER, Role.MANAGER),
        (DeviceKind.KIOSK,),
        _("Only this hall's greeters and managers may use the kiosk."),
        _("This device is not a ticket kiosk of this hall."),
        _("The kiosk needs a kiosk device token (?token=…) or a staff sign-in."),
    ),
    OPEN_PLANNER: Rule((Role.MANAGER,), (), _("The staffing planner is for this hall's managers.")),
    OPEN_RATING_PAD: Rule(
        ANY_STAFF,
        (DeviceKind.RATING_PAD,),
        NOT_STAFF,
        _("This device is not a rating pad of this hall."),
        _("The rating pad needs a rating pad token (?token=…) or a staff sign-in."),
    ),
    MANAGE_DEVICES: Rule((Role.MANAGER,), (), _("Setting up devices is for this hall's managers.")),
    BOOK: Rule((), (), "", public=True),
}

PUBLIC = "public"  # what ``admit`` answers for a public action


def halls_admitting(*, user, action: str):
    """The halls where ``user`` may do ``action`` (every hall for a superuser): the same rule as
    ``admit``, for many halls in one query."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Hall.objects.none()
    if user.is_superuser:
        return Hall.objects.all()
    memberships = StaffMembership.objects.filter(user=user, role__in=RULES[action].roles)
    return Hall.objects.filter(pk__in=memberships.values("hall"))


def device_of(who) -> Device | None:
    """The device behind ``who``: a Device, or the API's stand-in user for one (``DeviceUser``)."""
    if isinstance(who, Device):
        return who
    return getattr(who, "device", None)


def admit(*, who, hall: Hall, action: str, refusal=None, membership=NOT_READ) -> str:
    """The role (for a person) or device kind (for a device) with which ``who`` may do
    ``action`` in ``hall``; else ``Refused``: 401 for nobody, 403 for the wrong person or device.

    ``refusal``: what a refused person is told instead of the rule's words (a page may say it
    better). ``membership``: the role already read with another row (see ``staff_role``)."""
    rule = RULES[action]
    if rule.public:
        return PUBLIC
    device = device_of(who)
    if device is not None:
        if device.active and device.hall_id != hall.pk and device.kind in rule.devices:
            raise Refused(rule.foreign_device or rule.device_refusal)
        if not device.active or device.hall_id != hall.pk or device.kind not in rule.devices:
            raise Refused(rule.device_refusal)
        return device.kind
    if who is None or not who.is_authenticated:
        raise Refused(rule.nobody, nobody=True)
    role = staff_role(user=who, hall=hall, membership=membership)
    if role not in rule.roles:
        raise Refused(refusal or rule.refusal)
    return role


# The staff screens' Acknowledge and Resolve buttons (the clerk console's fault banner and the
# manager's wall): for the hall's managers, who answer for a fault (DOMAIN: the duty manager
# handles faults); a clerk reports one from the console. The API itself admits whom
# HANDLE_INCIDENT admits, clerks too.
INCIDENT_BUTTON_ROLES = (Role.MANAGER,)


def offers_incident_handling(*, role: str) -> bool:
    """Does a staff screen offer Acknowledge and Resolve to someone of ``role`` (as ``admit``
    answered it for the page)? Only roles ``HANDLE_INCIDENT`` admits, and of those the ones
    ``INCIDENT_BUTTON_ROLES`` names: one answer for the console and the wall."""
    return role in RULES[HANDLE_INCIDENT].roles and role in INCIDENT_BUTTON_ROLES


def hall_named(code: str, *, say_code: bool = True) -> Hall:
    """The hall with ``code``, else ``NotFound`` (404); the API names the code it did not find,
    a page or stream (whose address shows it) does not."""
    hall = Hall.objects.filter(code=code).first()
    if hall is None:
        if say_code:
            message = _("No hall with code %(code)s.") % {"code": code}
        else:
            message = _("No hall with this code.")
        raise NotFound(message)
    return hall


def not_found(message) -> NotFound:
    """The refusal of an object that does not exist, or that the caller may not learn of."""
    return NotFound(message)


def admit_to_hall(
    *, who, code: str, action: str, refusal=None, say_code: bool = True
) -> tuple[Hall, str]:
    """The hall named ``code`` (404 if none) and ``who``'s role or device kind there (``admit``).

    A device of this very hall comes with its hall (cached with its authentication): no query."""
    device = device_of(who)
    if device is not None and device.hall.code == code:
        return device.hall, admit(who=who, hall=device.hall, action=action)
    hall = hall_named(code, say_code=say_code)
    return hall, admit(who=who, hall=hall, action=action, refusal=refusal)


def admit_to_hall_of(rows, *, who, action: str, missing) -> tuple[Hall, str]:
    """The hall of the one object ``rows`` selects (a queryset of a model with a ``hall``) and
    ``who``'s role or device kind there (``admit``); ``NotFound(missing)`` if there is none."""
    hall = Hall.objects.filter(pk__in=rows.values("hall")).first()
    if hall is None:
        raise NotFound(missing)
    return hall, admit(who=who, hall=hall, action=action)


def page_caller(request) -> tuple[object, str]:
    """Who opens a page or a device's screen: the device of the ``?token=`` (and the token, for
    the page's scripts), else the signed-in person (and "")."""
    token = request.GET.get("token", "")
    if token:
        device = device_for_token(token)
        if device is None:
            raise Refused(_("This device token is unknown or disabled."))
        return device, token
    return request.user, ""


# The browser of a paired device keeps its token in this cookie, scoped to the page it was
# paired on (``hall.views.pairing_page``): opening that page bare again still finds the device.
DEVICE_COOKIE = "hallq_device"


class PairingNeeded(Refused):
    """A device page opened by nobody, or with a token that no longer works: the page answers
    with its pairing page for a ``kind`` device of ``hall`` (``hall.views.refusal_page``).
    ``message``: why the token given was refused, if one was."""

    def __init__(self, message=None, *, hall: Hall, kind: str):
        super().__init__(message or _("This screen is not set up yet."))
        self.hall, self.kind, self.token_refused = hall, kind, message is not None


def device_page_caller(request, *, hall: Hall, kind: str) -> tuple[object, str]:
    """Who opens the page of a ``kind`` device of ``hall``: the device of the ``?token=`` (and
    the token, for the page's scripts), else of the device cookie, else the signed-in person
    (and ""); ``PairingNeeded`` for nobody, or for a token given that no longer works."""
    token = request.GET.get("token", "")
    if token:
        device = device_for_token(token)
        if device is None:
            raise PairingNeeded(
                _("This device token is unknown or disabled."), hall=hall, kind=kind
            )
        return device, token
    cookie = request.COOKIES.get(DEVICE_COOKIE, "")
    device = device_for_token(cookie) if cookie else None
    if device is not None:
        return device, cookie
    if request.user.is_authenticated:
        return request.user, ""
    if cookie:
        raise PairingNeeded(
            _("This screen's set-up is no longer valid: pair it again."), hall=hall, kind=kind
        )
    raise PairingNeeded(hall=hall, kind=kind)
