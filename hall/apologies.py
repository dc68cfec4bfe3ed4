"""The apology log (every apology shown to customers: what, where, when, the words).

Call ``apology_record`` in the transaction that puts an apology up (a counter pause, an incident
opening, the kiosk marking a business unavailable) and ``apology_withdraw`` in the one that
takes it down: the log is then exactly as complete as the changes themselves.
"""

import datetime

from django.db.models import Q
from django.utils import timezone

from hall.models import ApologyPlace, ApologyRecord, ApologySource, Hall


def apology_record(
    *,
    hall: Hall,
    source: ApologySource | str,
    place: ApologyPlace | str,
    text_zh: str,
    text_en: str,
    counter_id: int | None = None,
    incident=None,
    interruption_id: int | None = None,
    ticket_id: int | None = None,
    at: datetime.datetime | None = None,
) -> ApologyRecord:
    return ApologyRecord.objects.create(
        hall=hall,
        source=source,
        place=place,
        text_zh=text_zh,
        text_en=text_en,
        counter_id=counter_id,
        incident=incident,
        interruption_id=interruption_id,
        ticket_id=ticket_id,
        shown_at=at or timezone.now(),
    )


def apology_withdraw(
    *,
    hall: Hall,
    incident=None,
    interruption_id: int | None = None,
    at: datetime.datetime | None = None,
) -> int:
    """Mark the apologies of an incident or an interruption as no longer shown."""
    if incident is None and interruption_id is None:
        raise ValueError("apology_withdraw needs an incident or an interruption")
    which = Q(incident=incident) if incident is not None else Q(interruption_id=interruption_id)
    return ApologyRecord.objects.filter(which, hall=hall, withdrawn_at__isnull=True).update(
        withdrawn_at=at or timezone.now()
    )
