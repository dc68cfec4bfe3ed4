"""Reads about halls: who may do what, and a hall's routing policy."""

from hall.models import Hall, Role, StaffMembership
from queueing import router


def staff_role(*, user, hall: Hall) -> str | None:
    """The user's role in the hall, or None. Superusers count as managers everywhere."""
    if user is None or not getattr(user, "pk", None) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.MANAGER
    return (
        StaffMembership.objects.filter(user=user, hall=hall).values_list("role", flat=True).first()
    )


def hall_policy(*, hall: Hall) -> router.Policy:
    """The router's view of a hall's lane weights, strict lanes, maximum wait and window."""
    weights = dict(router.DEFAULT_WEIGHTS)
    strict = set()
    for setting in hall.lane_settings.all():
        weights[setting.lane] = float(setting.weight)
        if setting.strict:
            strict.add(setting.lane)
    return router.Policy(
        weights=weights,
        strict=frozenset(strict),
        max_wait=hall.max_wait_minutes * 60.0,
        window_depth=hall.window_depth,
    )
