"""Reads about halls: who may do what, a hall's routing policy, its open incidents."""

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Subquery
from django.db.models.functions import JSONObject

from hall.models import Hall, Incident, LaneSetting, Role, StaffMembership

NOT_READ = object()  # "the caller has not read the membership": staff_role reads it


def staff_role(*, user, hall: Hall, membership=NOT_READ) -> str | None:
    """The user's role in the hall, or None. Superusers count as managers everywhere.

    ``membership``: the role already read with another row (``staff_role_subquery``), to save
    the query."""
    if user is None or not getattr(user, "pk", None) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.MANAGER
    if membership is not NOT_READ:
        return membership
    return (
        StaffMembership.objects.filter(user=user, hall=hall).values_list("role", flat=True).first()
    )


def staff_role_subquery(*, user_id: int | None, hall):
    """The role in ``hall`` (an ``OuterRef``) of the user ``user_id``, as a subquery to annotate
    a row the caller reads anyway; pass it to ``staff_role(membership=...)``."""
    return Subquery(StaffMembership.objects.filter(user_id=user_id, hall=hall).values("role")[:1])


def lane_settings_subquery(*, hall):
    """PostgreSQL: the lane settings of ``hall`` (an ``OuterRef``) as one array column of a row
    the caller reads anyway; pass it to ``queueing.selectors.hall_policy(lane_settings=...)``."""
    return ArraySubquery(
        LaneSetting.objects.filter(hall_id=hall)
        .order_by()
        .values(setting=JSONObject(lane="lane", weight="weight", strict="strict"))
    )


def open_incidents(*, hall: Hall) -> list[Incident]:
    """The hall's unresolved incidents, oldest first, with their business types loaded."""
    return list(
        Incident.objects.filter(hall=hall, resolved_at__isnull=True)
        .prefetch_related("business_types")
        .order_by("opened_at", "pk")
    )


def incident_public(incident: Incident) -> dict:
    """What displays, the kiosk, consoles and status pages show of an incident (no reporter,
    no department: customers see the apology, staff see the rest in the console and admin)."""
    codes = (
        None if incident.affects_all else sorted(bt.code for bt in incident.business_types.all())
    )
    return {
        "id": incident.pk,
        "kind": incident.kind,
        "kind_label": str(incident.get_kind_display()),
        "severity": incident.severity,
        "mode": incident.mode,
        "business_types": codes,  # None: every business type
        "apology_zh": incident.apology_zh,
        "apology_en": incident.apology_en,
        "opened_at": incident.opened_at,
        "acknowledged_at": incident.acknowledged_at,
        "resolved_at": incident.resolved_at,
    }


def incident_affects(incident_data: dict, business_type_code: str) -> bool:
    """Does the incident (as ``incident_public`` gives it) block or warn this business type?"""
    codes = incident_data["business_types"]
    return codes is None or business_type_code in codes
