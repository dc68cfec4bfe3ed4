"""``python manage.py plan --hall CODE``: expected waits per hour for a staffing plan, and the
fewest counters per hour that meet the hall's service level (queueing.planning)."""

import datetime
import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from hall.models import Hall
from queueing import planning


class Command(BaseCommand):
    help = (
        "What-if staffing: simulate the hall's day (its counters, skills and routing policy, "
        "today's arrivals so far plus a typical weekday, or a profile file) and print per hour "
        "the arrivals, counters, expected mean and p90 wait and service level, and the fewest "
        "counters per hour that meet the target."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hall", required=True, help="the hall's code")
        parser.add_argument("--day", help="the day to plan, YYYY-MM-DD (default: the hall's today)")
        parser.add_argument(
            "--profile",
            help="arrivals from a file instead of history: CSV, YAML or JSON rows of "
            "hour, business_type, lane, per_hour",
        )
        parser.add_argument(
            "--counters",
            help='counters open, "8:3,10:5,16:3" = 3 from 8:00, 5 from 10:00, 3 from 16:00 '
            "(default: every counter all day)",
        )
        parser.add_argument(
            "--target",
            type=float,
            help="the service level to meet: the share called within the hall's target wait "
            "(default: the hall's service level target, usually 0.8)",
        )
        parser.add_argument(
            "--target-wait", type=float, help="target wait in minutes (default: the hall's)"
        )
        parser.add_argument(
            "--replications",
            type=int,
            help=f"simulated days per evaluation (default {planning.REPLICATIONS})",
        )
        parser.add_argument("--seed", type=int, default=planning.SEED, help="random seed")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options):
        hall = Hall.objects.filter(code=options["hall"]).first()
        if hall is None:
            raise CommandError(_("No hall with the code %(code)s.") % {"code": options["hall"]})
        day = None
        if options["day"]:
            try:
                day = datetime.date.fromisoformat(options["day"])
            except ValueError:
                raise CommandError(
                    _("--day must be a date like 2026-03-02, not %(day)s.")
                    % {"day": options["day"]}
                ) from None
        if options["replications"] is not None and options["replications"] < 1:
            raise CommandError(_("--replications must be at least 1."))
        target_wait_s = None
        if options["target_wait"] is not None:
            target_wait_s = options["target_wait"] * 60.0
        try:
            plan = planning.scenario_for_hall(hall=hall, day=day, profile=options["profile"])
            staffing = plan.full_staffing()
            if options["counters"]:
                given = planning.parse_counters(options["counters"])
                staffing = planning.expand_counters(plan, given)
            common = dict(
                scenario=plan,
                target_share=(
                    hall.service_level_target if options["target"] is None else options["target"]
                ),
                target_wait_s=target_wait_s,
                replications=options["replications"],
                seed=options["seed"],
            )
            evaluation = planning.evaluate(counters_per_hour=staffing, **common)
            suggestion = planning.suggest(progress=self._progress, **common)
        except planning.PlanningError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            data = {
                "hall": hall.code,
                "day": plan.day.isoformat(),
                "hours": [plan.scenario.start_hour, plan.scenario.end_hour],
                "profile": plan.profile_source,
                "service_times": plan.service_source,
                "opening_order": list(plan.order),
                "min_counters": plan.min_counters,
                "evaluation": evaluation.to_dict(),
                "suggestion": suggestion.to_dict(),
            }
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(table(plan, evaluation, suggestion))

    def _progress(self, done: int, total: int) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(
                "\r" + _("searching: hour %(done)s of %(total)s") % {"done": done, "total": total}
            )
            if done == total:
                sys.stderr.write("\n")


def _minutes(seconds) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f}"


def _percent(share) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"


def table(plan, evaluation, suggestion) -> str:
    sc = plan.scenario
    sources = {
        "history": _("typical weekday from history, with today's arrivals so far"),
        "default": _("default profile (no history)"),
        "file": _("profile file"),
    }
    out = [
        _("%(hall)s, %(day)s, %(start)s to %(end)s; arrivals: %(source)s")
        % {
            "hall": plan.hall_code,
            "day": plan.day.isoformat(),
            "start": _clock(sc.start_hour),
            "end": _clock(sc.end_hour),
            "source": sources[plan.profile_source],
        },
        _(
            "Service level = share called within %(wait)s min; target %(share)s; "
            "%(reps)s simulated days per evaluation, seed %(seed)s."
        )
        % {
            "wait": f"{evaluation.target_wait_s / 60:g}",
            "share": _percent(evaluation.target_share),
            "reps": evaluation.replications,
            "seed": evaluation.seed,
        },
        _("Counters open in this order: %(order)s (the first %(min)s serve every business).")
        % {"order": ", ".join(plan.order), "min": plan.min_counters},
        "",
    ]
    head = [
        _("hour"),
        _("arrivals"),
        _("counters"),
        _("mean min"),
        _("p90 min"),
        _("level"),
        _("suggested"),
        _("level"),
    ]
    out.append("".join(f"{h:>10}" for h in head))
    suggested = {h.hour: h for h in suggestion.evaluation.hours}
    for row in evaluation.hours:
        best = suggested[row.hour]
        cells = [
            f"{row.hour:02d}:00",
            f"{row.arrivals:.0f}",
            str(row.counters),
            _minutes(row.mean_wait_s),
            _minutes(row.p90_wait_s),
            _percent(row.service_level) + ("" if row.meets_target is not False else " !"),
            str(best.counters),
            _percent(best.service_level) + ("" if best.meets_target is not False else " !"),
        ]
        out.append("".join(f"{c:>10}" for c in cells))
    overall = evaluation.overall
    out += [
        "",
        _("Day: mean wait %(mean)s min, service level %(level)s with this staffing; ")
        % {"mean": _minutes(overall["mean_wait_s"]), "level": _percent(overall["service_level"])}
        + _("suggested staffing: %(hours)s counter-hours, service level %(level)s.")
        % {
            "hours": sum(suggestion.counters_per_hour.values()),
            "level": _percent(suggestion.evaluation.overall["service_level"]),
        },
    ]
    if suggestion.unreachable:
        out.append(
            _("Even every counter misses the target at: %(hours)s.")
            % {"hours": ", ".join(f"{h:02d}:00" for h in suggestion.unreachable)}
        )
    out.append(_("(! = misses the target)"))
    return "\n".join(out)


def _clock(hour: float) -> str:
    minutes = round(hour * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
