"""Satisfaction ratings (满意度): the customer rates a finished ticket at the counter's rating pad.

Rules (``rating_record``):

- only a finished (``done``) ticket can be rated, and only once: a second attempt is refused with
  409 ``already_rated``; the one-to-one ticket column of ``SatisfactionRating`` is the last guard
  when two attempts race;
- the rating goes against the ticket's counter and clerk (who served it), with the ticket's
  service date, so a ticket finished after midnight counts in the day it was issued;
- a rating pad device may rate tickets of its own hall only; staff of the hall may record one too
  (the pad page opened in a staff session), except the clerk who served the ticket: a clerk
  never rates their own service;
- only within ``RATING_WINDOW`` (10 minutes) of finishing: the rating is the customer's answer
  at the counter, not something collected later. The pad shows its question for 30 seconds
  (``counters/views/rating_pad.py``); ten minutes leaves room for a slow customer and a network
  retry while keeping stale pads and replays of old ticket ids out;
- every rating writes one ``rating.recorded`` audit event (ticket number, counter, rating,
  score: nothing about the customer) in the same transaction; it reaches the hall's streams and
  the counter's stream like the counter's other events.

Reasons are preset codes (``RatingReason``): the pad offers a few large buttons, and free text
(where a customer might type a phone number or a name) is not accepted.

The satisfaction figure (``satisfaction_figure``, ``satisfaction_by_clerk``): the mean of the
ratings' scores (very satisfied 100, satisfied 80, dissatisfied 0), 0..100, against the
operators' standard of 85.
"""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import status

from counters.models import RATING_SCORES, Rating, SatisfactionRating
from hall.access import RATE_TICKET, Refused, admit_to_hall_of
from hall.auth import DeviceUser
from hall.errors import DomainError, InvalidInput
from hall.models import Device, EventKind, Hall, Role
from hall.services import event_record, hall_lock
from queueing.models import Status, Ticket

RATING_WINDOW = datetime.timedelta(minutes=10)
SATISFACTION_TARGET = 85  # out of 100: the operators' service standard


class RatingReason:
    """The preset reasons the pad offers, as (code, label). Positive ones follow a satisfied
    rating, negative ones a dissatisfied rating; any of them is accepted with any rating."""

    POSITIVE = [
        ("fast", gettext_lazy("Quick service")),
        ("friendly", gettext_lazy("Friendly and patient")),
        ("clear", gettext_lazy("Clear explanation")),
        ("solved", gettext_lazy("My problem was solved")),
    ]
    NEGATIVE = [
        ("long_wait", gettext_lazy("Waited too long")),
        ("slow_service", gettext_lazy("Service was slow")),
        ("attitude", gettext_lazy("Unfriendly attitude")),
        ("not_solved", gettext_lazy("My problem was not solved")),
    ]

    @classmethod
    def labels(cls) -> dict:
        return dict(cls.POSITIVE + cls.NEGATIVE)

    @classmethod
    def codes(cls) -> list[str]:
        return [code for code, _label in cls.POSITIVE + cls.NEGATIVE]


class AlreadyRated(DomainError):
    code = "already_rated"
    status_code = status.HTTP_409_CONFLICT
    default_message = gettext_lazy("This ticket has already been rated.")


class NotRateable(DomainError):
    code = "not_rateable"
    status_code = status.HTTP_409_CONFLICT
    default_message = gettext_lazy("Only a finished ticket can be rated.")


class RatingWindowClosed(DomainError):
    code = "rating_window_closed"
    status_code = status.HTTP_409_CONFLICT
    default_message = gettext_lazy("This ticket was finished too long ago to be rated.")


def rating_admission(
    *, ticket_id: int, device: Device | None = None, user=None
) -> tuple[Hall, str]:
    """The hall of the ticket and the rater's role (or device kind), if ``device`` or ``user``
    may rate its tickets (``hall.access.RATE_TICKET``); 404 for no such ticket. Whether a clerk
    served this very ticket is ``rating_record``'s to say, under its lock."""
    if isinstance(user, DeviceUser):
        device, user = user.device, None
    rows = Ticket.objects.filter(pk=ticket_id)
    missing = _("No such ticket.")
    return admit_to_hall_of(rows, who=device or user, action=RATE_TICKET, missing=missing)


def _already_rated(ticket_id: int) -> bool:
    return SatisfactionRating.objects.filter(ticket_id=ticket_id).exists()


def rating_record(
    *,
    ticket_id: int,
    rating: str,
    reason: str = "",
    device: Device | None = None,
    user=None,
    now: datetime.datetime | None = None,
) -> SatisfactionRating:
    """Record the customer's rating of a finished ticket, once.

    Takes the hall lock (as every counter action does) because the event it writes advances
    the counter's live seq; the check for an earlier rating then runs serialised with any
    concurrent attempt, and the unique ticket column catches whatever slips past (SQLite, or
    a caller that does not lock).
    """
    now = now or timezone.now()
    if isinstance(user, DeviceUser):
        device, user = user.device, None
    hall, role = rating_admission(ticket_id=ticket_id, device=device, user=user)
    if rating not in Rating.values:
        raise InvalidInput(fields={"rating": f"one of {', '.join(Rating.values)}"})
    reason = (reason or "").strip()
    if reason and reason not in RatingReason.codes():
        raise InvalidInput(fields={"reason": f"one of {', '.join(RatingReason.codes())}"})
    with transaction.atomic():
        hall_lock(hall_id=hall.pk)
        ticket = Ticket.objects.select_related("hall", "counter", "business_type").get(pk=ticket_id)
        if role == Role.CLERK and ticket.clerk_id == user.pk:
            raise Refused(_("You served this ticket: the customer rates it, not you."))
        if ticket.status != Status.DONE:
            raise NotRateable(
                _("Ticket %(number)s is %(status)s: only a finished ticket can be rated.")
                % {"number": ticket.number, "status": ticket.get_status_display()}
            )
        if _already_rated(ticket.pk):
            raise AlreadyRated()
        if ticket.finished_at is None or now - ticket.finished_at > RATING_WINDOW:
            raise RatingWindowClosed(
                _("Ticket %(number)s was finished more than %(minutes)s minutes ago.")
                % {"number": ticket.number, "minutes": int(RATING_WINDOW.total_seconds() // 60)}
            )
        score = RATING_SCORES[Rating(rating)]
        try:
            with transaction.atomic():  # a savepoint: the outer transaction stays usable
                record = SatisfactionRating.objects.create(
                    ticket=ticket,
                    hall=ticket.hall,
                    counter=ticket.counter,
                    clerk_id=ticket.clerk_id,
                    rating=rating,
                    score=score,
                    reason=reason,
                    service_date=ticket.service_date,
                    rated_at=now,
                )
        except IntegrityError:
            raise AlreadyRated() from None
        event_record(
            hall=ticket.hall,
            kind=EventKind.RATING_RECORDED,
            actor=user,
            device=device,
            ticket=ticket,
            counter=ticket.counter,
            data={
                "number": ticket.number,
                "counter": ticket.counter.number,
                "rating": rating,
                "score": score,
            },
            at=now,
        )
    return record


# --- selectors -------------------------------------------------------------------------------


def _figure(rows: dict) -> dict:
    count = rows.get("ratings") or 0
    mean = rows.get("mean")
    return {
        "ratings": count,
        "score": None if not count or mean is None else round(float(mean), 1),
        "target": SATISFACTION_TARGET,
        "very_satisfied": rows.get("very_satisfied") or 0,
        "satisfied": rows.get("satisfied") or 0,
        "dissatisfied": rows.get("dissatisfied") or 0,
    }


def _aggregates() -> dict:
    return {
        "ratings": Count("pk"),
        "mean": Avg("score"),
        "very_satisfied": Count("pk", filter=Q(rating=Rating.VERY_SATISFIED)),
        "satisfied": Count("pk", filter=Q(rating=Rating.SATISFIED)),
        "dissatisfied": Count("pk", filter=Q(rating=Rating.DISSATISFIED)),
    }


def satisfaction_figure(*, hall: Hall, service_date: datetime.date) -> dict:
    """The hall's satisfaction for one service date, in one query:
    ``{"ratings", "score" (0..100 or None), "target", "very_satisfied", "satisfied",
    "dissatisfied"}``."""
    rows = SatisfactionRating.objects.filter(hall=hall, service_date=service_date).aggregate(
        **_aggregates()
    )
    return _figure(rows)


def satisfaction_by_clerk(*, hall: Hall, service_date: datetime.date) -> dict[int | None, dict]:
    """The same figure per clerk (by user id), in one query."""
    rows = (
        SatisfactionRating.objects.filter(hall=hall, service_date=service_date)
        .order_by()
        .values("clerk_id")
        .annotate(**_aggregates())
    )
    return {row["clerk_id"]: _figure(row) for row in rows}


def satisfaction_by_hall(*, hall_ids: list[int], service_date: datetime.date) -> dict[int, dict]:
    """The figure of several halls for one service date, in one query (reports)."""
    rows = (
        SatisfactionRating.objects.filter(hall_id__in=hall_ids, service_date=service_date)
        .order_by()
        .values("hall_id")
        .annotate(**_aggregates())
    )
    found = {row["hall_id"]: _figure(row) for row in rows}
    return {hall_id: found.get(hall_id, _figure({})) for hall_id in hall_ids}
