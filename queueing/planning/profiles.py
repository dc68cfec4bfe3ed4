"""Arrival profiles from files (CSV, YAML, JSON) and the planner's error.

A profile maps (business type, lane) to customers per hour by local hour of day. A file holds
rows ``hour, business_type, lane, per_hour``: CSV with that header, or a YAML/JSON list of
mappings with those keys (``lane`` defaults to ``normal``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path

import yaml
from django.utils.translation import gettext as _

from queueing import router

MAX_PER_HOUR = 2000.0  # customers per hour in one business type and lane: a typo, not a hall

Profile = dict[tuple[str, str], dict[int, float]]  # (business type, lane) -> {hour: per hour}


class PlanningError(ValueError):
    """Bad planner input (a profile file, a staffing plan); the message is translated."""


PROFILE_COLUMNS = ("hour", "business_type", "lane", "per_hour")


def read_profile(path: str | Path, *, codes: set[str]) -> Profile:
    """An arrival profile from a CSV, YAML or JSON file of rows ``hour, business_type, lane,
    per_hour`` (see the module's docstring). Every problem is a ``PlanningError`` that names the
    file and the row."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: spreadsheets write a BOM
    except OSError as exc:
        raise PlanningError(
            _("Cannot read the profile %(file)s: %(error)s") % {"file": path, "error": exc.strerror}
        ) from exc
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            rows = list(csv.DictReader(io.StringIO(text)))
            if rows and set(PROFILE_COLUMNS) - {"lane"} - set(rows[0]):
                raise PlanningError(
                    _("The profile %(file)s needs the columns %(columns)s.")
                    % {"file": path, "columns": ", ".join(PROFILE_COLUMNS)}
                )
        elif suffix == ".json":
            rows = json.loads(text)
        else:
            rows = yaml.safe_load(text)
    except (ValueError, yaml.YAMLError, csv.Error) as exc:
        if isinstance(exc, PlanningError):
            raise
        raise PlanningError(
            _("The profile %(file)s is not valid CSV, YAML or JSON: %(error)s")
            % {"file": path, "error": exc}
        ) from exc
    if not isinstance(rows, list) or not rows:
        raise PlanningError(
            _("The profile %(file)s must be a non-empty list of rows (%(columns)s).")
            % {"file": path, "columns": ", ".join(PROFILE_COLUMNS)}
        )
    profile: Profile = {}
    for number, row in enumerate(rows, start=1):
        where = _("%(file)s, row %(row)s") % {"file": path, "row": number}
        hour, key, rate = _profile_row(row, where, codes)
        if hour in profile.setdefault(key, {}):
            raise PlanningError(
                _("%(where)s: hour %(hour)s of %(type)s (%(lane)s) is given twice.")
                % {"where": where, "hour": hour, "type": key[0], "lane": key[1]}
            )
        profile[key][hour] = rate
    return profile


def _profile_row(row, where: str, codes: set[str]) -> tuple[int, tuple[str, str], float]:
    if not isinstance(row, Mapping):
        raise PlanningError(
            _("%(where)s: a row must have the fields %(columns)s.")
            % {"where": where, "columns": ", ".join(PROFILE_COLUMNS)}
        )
    unknown = set(row) - set(PROFILE_COLUMNS)
    if unknown:
        raise PlanningError(
            _("%(where)s: unknown field %(field)s (expected %(columns)s).")
            % {
                "where": where,
                "field": sorted(map(str, unknown))[0],
                "columns": ", ".join(PROFILE_COLUMNS),
            }  # fmt: skip
        )
    try:
        hour = int(str(row.get("hour")).strip())
    except ValueError:
        hour = -1
    if not 0 <= hour <= 23:
        raise PlanningError(
            _("%(where)s: hour must be a whole number from 0 to 23.") % {"where": where}
        )
    code = str(row.get("business_type") or "").strip()
    if code not in codes:
        raise PlanningError(
            _("%(where)s: unknown business type %(code)s (this hall has: %(codes)s).")
            % {"where": where, "code": repr(code), "codes": ", ".join(sorted(codes))}
        )
    lane = str(row.get("lane") or router.Lane.NORMAL).strip()
    if lane not in set(router.Lane):
        raise PlanningError(
            _("%(where)s: lane must be one of %(lanes)s.")
            % {"where": where, "lanes": ", ".join(router.Lane)}
        )
    try:
        rate = float(str(row.get("per_hour")).strip())
    except ValueError:
        rate = -1.0
    if not 0 <= rate <= MAX_PER_HOUR:
        raise PlanningError(
            _("%(where)s: per_hour must be a number from 0 to %(max)s.")
            % {"where": where, "max": f"{MAX_PER_HOUR:g}"}
        )
    return hour, (code, lane), rate


def checked_profile(profile: Mapping, codes: set[str]) -> Profile:
    rows = [
        {"hour": hour, "business_type": code, "lane": lane, "per_hour": rate}
        for (code, lane), by_hour in profile.items()
        for hour, rate in by_hour.items()
    ]
    checked: Profile = {}
    for number, row in enumerate(rows, start=1):
        hour, key, rate = _profile_row(row, _("row %(row)s") % {"row": number}, codes)
        checked.setdefault(key, {})[hour] = rate
    return checked
