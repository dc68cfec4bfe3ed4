"""Helpers to build ticket histories quickly through the real services."""

import datetime

from django.utils import timezone

from queueing.services import ticket_issue


def issue(hall, code="payment", *, by=None, device=None, lane=None, reason="", at=None, **kw):
    """Issue a ticket through the service; returns the Ticket."""
    return ticket_issue(
        hall=hall,
        business_type_code=code,
        lane=lane,
        priority_reason=reason,
        issued_by=by,
        device=device,
        now=at,
        **kw,
    ).ticket


def minutes_ago(minutes: float, now=None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(minutes=minutes)
