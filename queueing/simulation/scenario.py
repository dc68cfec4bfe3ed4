"""A simulation scenario: plain dataclasses, and ``load_scenario`` from YAML, JSON or a dict.

The dict (YAML/JSON) schema mirrors the dataclasses; see ``queueing/scenarios/*.yaml`` for
documented examples. Every problem in a scenario raises ``ScenarioError`` naming the field
(``counters[2].open_hours``), never a bare ``KeyError``. No Django here (the messages are marked
with ``gettext_noop`` so that the ``simulate`` command can show them translated).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import gettext_noop

from queueing import router

DISTRIBUTIONS = ("exponential", "lognormal", "deterministic", "empirical")
LANES = tuple(router.Lane)


class ScenarioError(ValueError):
    """A bad scenario. ``field`` is the path of the offending field; ``message`` an English
    template (translated by the command) filled with ``params``."""

    def __init__(self, field: str, message: str, **params: Any) -> None:
        self.field, self.message, self.params = field, message, params
        super().__init__(f"{field}: {message % params}" if params else f"{field}: {message}")


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    dist: str = "exponential"
    mean_s: float = 300.0
    cv: float = 1.0  # lognormal only
    samples: tuple[
        float, ...
    ] = ()  # empirical only: observed service times, drawn with replacement


@dataclass(frozen=True, slots=True)
class BusinessTypeSpec:
    code: str
    service: ServiceSpec


@dataclass(frozen=True, slots=True)
class ArrivalSpec:
    """Poisson arrivals of one business type in one lane: a constant ``per_hour`` rate, or an
    hourly ``profile`` (local hour of day -> customers per hour; missing hours have none)."""

    business_type: str
    lane: str = router.Lane.NORMAL
    per_hour: float | None = None
    profile: Mapping[int, float] | None = None

    def rate_at_hour(self, hour: int) -> float:
        """Customers per hour during local hour ``hour`` (taken modulo 24 for long horizons)."""
        if self.profile is not None:
            return self.profile.get(hour % 24, 0.0)
        return self.per_hour or 0.0


@dataclass(frozen=True, slots=True)
class CounterSpec:
    id: str
    business_types: frozenset
    vip_mode: str = router.VipMode.NONE
    open_hours: tuple[tuple[float, float], ...] = ()  # empty: the whole day (start to end hour)


@dataclass(frozen=True, slots=True)
class NoShowSpec:
    probability: float = 0.0
    recall_wait_s: float = 120.0  # how long the counter waits for a called customer who never comes


@dataclass(frozen=True, slots=True)
class PauseSpec:
    counter: str
    at_hour: float
    minutes: float


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    business_types: tuple[BusinessTypeSpec, ...]
    counters: tuple[CounterSpec, ...]
    arrivals: tuple[ArrivalSpec, ...] = ()
    replay: tuple[tuple[float, str, str], ...] = ()  # (issued_at s since midnight, type, lane)
    policy: router.Policy = field(default_factory=router.Policy)
    seed: int = 1
    replications: int = 1
    start_hour: float = 8.5
    end_hour: float = 18.0  # arrivals stop; the hall serves whoever is waiting
    target_wait_s: float = 900.0
    no_show: NoShowSpec = NoShowSpec()
    pauses: tuple[PauseSpec, ...] = ()
    warmup_hours: float = 0.0  # tickets issued before start + warmup are left out of the results

    def open_hours(self, counter: CounterSpec) -> tuple[tuple[float, float], ...]:
        return counter.open_hours or ((self.start_hour, self.end_hour),)

    def expected_customers(self) -> float:
        """Expected arrivals in one replication (the Poisson rates integrated, plus the replay)."""
        total = float(len(self.replay))
        for spec in self.arrivals:
            t = self.start_hour
            while t < self.end_hour:
                nxt = min(math.floor(t) + 1.0, self.end_hour)
                total += spec.rate_at_hour(math.floor(t)) * (nxt - t)
                t = nxt
        return total


def load_scenario(source: str | Path | Mapping) -> Scenario:
    """A ``Scenario`` from a YAML or JSON file path, or from a dict with the same schema."""
    if isinstance(source, Mapping):
        return _scenario(source)
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(
            str(path), gettext_noop("cannot read the file (%(error)s)"), error=exc.strerror
        ) from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ScenarioError(
            str(path), gettext_noop("not valid YAML or JSON (%(error)s)"), error=str(exc)
        ) from exc
    data = data or {}
    if not isinstance(data, Mapping):
        raise ScenarioError(str(path), gettext_noop("must be a mapping of scenario fields"))
    data = dict(data)
    data.setdefault("name", path.stem)
    return _scenario(data)


# ---------------------------------------------------------------------------------------------
# Parsing with field paths.

_FIELDS = {
    "name", "seed", "replications", "start_hour", "end_hour", "target_wait_s", "policy",
    "business_types", "arrivals", "replay", "counters", "no_show", "pauses", "warmup_hours",
    "description",
}  # fmt: skip


def _scenario(data: Mapping) -> Scenario:
    # Keys starting with "x-" are the file's own (YAML anchors shared by several fields).
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    _no_unknown(data, _FIELDS, "")
    name = str(_get(data, "name", "", required=True))
    start = _num(data, "start_hour", "", default=8.5, low=0)
    end = _num(data, "end_hour", "", default=18.0, low=0)
    if end <= start:
        raise ScenarioError("end_hour", gettext_noop("must be after start_hour"))
    types = tuple(
        _business_type(item, f"business_types[{i}]")
        for i, item in enumerate(_list(data, "business_types", "", required=True))
    )
    codes = {t.code for t in types}
    if len(codes) != len(types):
        raise ScenarioError("business_types", gettext_noop("codes must be unique"))
    arrivals = tuple(
        _arrival(item, f"arrivals[{i}]", codes)
        for i, item in enumerate(_list(data, "arrivals", ""))
    )
    replay = tuple(
        _replay(item, f"replay[{i}]", codes) for i, item in enumerate(_list(data, "replay", ""))
    )
    if not arrivals and not replay:
        raise ScenarioError("arrivals", gettext_noop("give arrivals or a replay (or both)"))
    counters = tuple(
        _counter(item, f"counters[{i}]", codes)
        for i, item in enumerate(_list(data, "counters", "", required=True))
    )
    ids = [c.id for c in counters]
    if len(set(ids)) != len(ids):
        raise ScenarioError("counters", gettext_noop("ids must be unique"))
    pauses = tuple(
        _pause(item, f"pauses[{i}]", set(ids)) for i, item in enumerate(_list(data, "pauses", ""))
    )
    return Scenario(
        name=name,
        seed=int(_num(data, "seed", "", default=1)),
        replications=int(_num(data, "replications", "", default=1, low=1)),
        start_hour=start,
        end_hour=end,
        target_wait_s=_num(data, "target_wait_s", "", default=900.0, low=0),
        warmup_hours=_num(data, "warmup_hours", "", default=0.0, low=0),
        policy=_policy(data.get("policy") or {}, "policy"),
        business_types=types,
        arrivals=arrivals,
        replay=tuple(sorted(replay, key=lambda r: r[0])),
        counters=counters,
        no_show=_no_show(data.get("no_show") or {}, "no_show"),
        pauses=pauses,
    )


def _path(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _no_unknown(data: Mapping, allowed: set[str], prefix: str) -> None:
    if not isinstance(data, Mapping):
        raise ScenarioError(prefix or "scenario", gettext_noop("must be a mapping"))
    for key in data:
        if key not in allowed:
            raise ScenarioError(
                _path(prefix, str(key)),
                gettext_noop("unknown field (expected one of: %(fields)s)"),
                fields=", ".join(sorted(allowed)),
            )


def _get(data: Mapping, key: str, prefix: str, *, required: bool = False, default=None):
    if key not in data or data[key] is None:
        if required:
            raise ScenarioError(_path(prefix, key), gettext_noop("is required"))
        return default
    return data[key]


def _num(data, key, prefix, *, default=None, required=False, low=None, high=None) -> float:
    value = _get(data, key, prefix, required=required, default=default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScenarioError(_path(prefix, key), gettext_noop("must be a number"))
    if (low is not None and value < low) or (high is not None and value > high):
        raise ScenarioError(
            _path(prefix, key),
            gettext_noop("must be between %(low)s and %(high)s"),
            low=low if low is not None else "-inf",
            high=high if high is not None else "inf",
        )
    return float(value)


def _list(data, key, prefix, *, required=False) -> list:
    value = _get(data, key, prefix, required=required, default=[])
    if not isinstance(value, list | tuple):
        raise ScenarioError(_path(prefix, key), gettext_noop("must be a list"))
    if required and not value:
        raise ScenarioError(_path(prefix, key), gettext_noop("must not be empty"))
    return list(value)


def _choice(data, key, prefix, choices, *, default=None) -> str:
    value = _get(data, key, prefix, default=default, required=default is None)
    if value not in choices:
        raise ScenarioError(
            _path(prefix, key),
            gettext_noop("must be one of: %(choices)s"),
            choices=", ".join(str(c) for c in choices),
        )
    return str(value)


def _code(data, key, prefix, codes: set[str]) -> str:
    value = str(_get(data, key, prefix, required=True))
    if value not in codes:
        raise ScenarioError(
            _path(prefix, key),
            gettext_noop("unknown business type %(code)r (known: %(codes)s)"),
            code=value,
            codes=", ".join(sorted(codes)),
        )
    return value


def _business_type(data, prefix) -> BusinessTypeSpec:
    _no_unknown(data, {"code", "service", "name"}, prefix)
    code = str(_get(data, "code", prefix, required=True))
    service = _get(data, "service", prefix, required=True)
    sp = f"{prefix}.service"
    _no_unknown(service, {"dist", "mean_s", "mean_minutes", "cv", "samples"}, sp)
    dist = _choice(service, "dist", sp, DISTRIBUTIONS, default="exponential")
    samples: tuple[float, ...] = ()
    if dist == "empirical":
        raw = _list(service, "samples", sp, required=True)
        for i, s in enumerate(raw):
            if isinstance(s, bool) or not isinstance(s, int | float) or not s >= 0:
                raise ScenarioError(f"{sp}.samples[{i}]", gettext_noop("must be a number >= 0"))
        samples = tuple(float(s) for s in raw)
        mean = sum(samples) / len(samples)
    elif "mean_minutes" in service:
        mean = _num(service, "mean_minutes", sp, required=True, low=0) * 60.0
    else:
        mean = _num(service, "mean_s", sp, required=True, low=0)
    if mean <= 0:
        raise ScenarioError(f"{sp}.mean_s", gettext_noop("must be positive"))
    cv = _num(service, "cv", sp, default=1.0, low=0)
    return BusinessTypeSpec(code=code, service=ServiceSpec(dist, mean, cv, samples))


def _arrival(data, prefix, codes) -> ArrivalSpec:
    _no_unknown(data, {"business_type", "lane", "per_hour", "profile", "scale"}, prefix)
    code = _code(data, "business_type", prefix, codes)
    # ``scale`` (files only) multiplies the rates: one hall-wide profile (a YAML anchor) can be
    # shared out among business types and lanes.
    scale = _num(data, "scale", prefix, default=1.0, low=0)
    lane = _choice(data, "lane", prefix, LANES, default=router.Lane.NORMAL)
    has_rate, has_profile = data.get("per_hour") is not None, data.get("profile") is not None
    if has_rate == has_profile:
        raise ScenarioError(prefix, gettext_noop("give exactly one of per_hour and profile"))
    if has_rate:
        return ArrivalSpec(code, lane, per_hour=_num(data, "per_hour", prefix, low=0) * scale)
    raw = data["profile"]
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{prefix}.profile", gettext_noop("must map hours to rates"))
    profile = {}
    for hour in raw:
        try:
            h = int(hour)
        except (TypeError, ValueError):
            h = -1
        if not 0 <= h <= 23:
            raise ScenarioError(f"{prefix}.profile.{hour}", gettext_noop("hours must be 0 to 23"))
        profile[h] = _num(raw, hour, f"{prefix}.profile", low=0) * scale
    return ArrivalSpec(code, lane, profile=profile)


def _replay(item, prefix, codes) -> tuple[float, str, str]:
    if isinstance(item, Mapping):
        _no_unknown(item, {"at", "business_type", "lane"}, prefix)
        at, code, lane = item.get("at"), item.get("business_type"), item.get("lane", "normal")
    elif isinstance(item, list | tuple) and len(item) in (2, 3):
        at, code, lane = (*item, "normal")[:3]
    else:
        raise ScenarioError(prefix, gettext_noop("must be [at, business_type, lane?]"))
    seconds = _clock(at, f"{prefix}.at")
    _code({"business_type": code}, "business_type", prefix, codes)
    _choice({"lane": lane}, "lane", prefix, LANES)
    return seconds, str(code), str(lane)


def _clock(value, where) -> float:
    """Seconds since midnight from a number or an "HH:MM[:SS]" string."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str):
        try:
            parts = [float(p) for p in value.split(":")]
        except ValueError:
            parts = []
        if 2 <= len(parts) <= 3:
            return parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) == 3 else 0.0)
    raise ScenarioError(where, gettext_noop("must be seconds since midnight or HH:MM[:SS]"))


def _counter(data, prefix, codes) -> CounterSpec:
    _no_unknown(data, {"id", "business_types", "vip_mode", "open_hours", "name"}, prefix)
    counter_id = str(_get(data, "id", prefix, required=True))
    raw = _get(data, "business_types", prefix, required=True)
    if raw == "all":
        skills = frozenset(codes)
    else:
        items = _list(data, "business_types", prefix, required=True)
        skills = frozenset(
            _code({"business_type": c}, "business_type", f"{prefix}.business_types[{i}]", codes)
            for i, c in enumerate(items)
        )
    vip_mode = _choice(data, "vip_mode", prefix, tuple(router.VipMode), default="none")
    hours = []
    for i, pair in enumerate(_list(data, "open_hours", prefix)):
        where = f"{prefix}.open_hours[{i}]"
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ScenarioError(where, gettext_noop("must be [from_hour, to_hour]"))
        a, b = (_num({"h": h}, "h", where, low=0) for h in pair)
        if b <= a or (hours and a < hours[-1][1]):
            raise ScenarioError(where, gettext_noop("hours must increase and not overlap"))
        hours.append((a, b))
    return CounterSpec(counter_id, skills, router.VipMode(vip_mode), tuple(hours))


def _policy(data, prefix) -> router.Policy:
    _no_unknown(
        data,
        {"weights", "strict", "max_wait_minutes", "window_depth", "greeting_binds_counter"},
        prefix,
    )
    weights = dict(router.DEFAULT_WEIGHTS)
    strict = set()
    raw_weights = _get(data, "weights", prefix, default={})
    _no_unknown(raw_weights, set(LANES), f"{prefix}.weights")
    for lane, value in raw_weights.items():
        if value == "strict":
            strict.add(router.Lane(lane))
        else:
            weights[router.Lane(lane)] = _num(raw_weights, lane, f"{prefix}.weights", low=1e-9)
    for i, lane in enumerate(_list(data, "strict", prefix)):
        strict.add(router.Lane(_choice({"lane": lane}, "lane", f"{prefix}.strict[{i}]", LANES)))
    guard = data.get("max_wait_minutes", 30)
    max_wait = None if guard is None else _num({"m": guard}, "m", prefix, low=0) * 60.0
    depth = _num(data, "window_depth", prefix, default=2, low=0, high=2)
    if depth != int(depth):
        raise ScenarioError(f"{prefix}.window_depth", gettext_noop("must be 0, 1 or 2"))
    binds = data.get("greeting_binds_counter", False)
    if not isinstance(binds, bool):
        raise ScenarioError(
            f"{prefix}.greeting_binds_counter", gettext_noop("must be true or false")
        )
    return router.Policy(
        weights=weights,
        strict=frozenset(strict),
        max_wait=max_wait,
        window_depth=int(depth),
        greeting_binds_counter=binds,
    )


def _no_show(data, prefix) -> NoShowSpec:
    _no_unknown(data, {"probability", "recall_wait_s"}, prefix)
    return NoShowSpec(
        probability=_num(data, "probability", prefix, default=0.0, low=0, high=1),
        recall_wait_s=_num(data, "recall_wait_s", prefix, default=120.0, low=0),
    )


def _pause(data, prefix, ids) -> PauseSpec:
    _no_unknown(data, {"counter", "at_hour", "minutes"}, prefix)
    counter = str(_get(data, "counter", prefix, required=True))
    if counter not in ids:
        raise ScenarioError(f"{prefix}.counter", gettext_noop("unknown counter %(id)r"), id=counter)
    return PauseSpec(
        counter,
        _num(data, "at_hour", prefix, required=True, low=0),
        _num(data, "minutes", prefix, required=True, low=0),
    )
