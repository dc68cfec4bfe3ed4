"""``python manage.py simulate --scenario FILE``: run a hall scenario on the real router."""

import json
import math

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from queueing.simulation import ScenarioError, load_scenario, simulate


class Command(BaseCommand):
    help = (
        "Simulate a hall scenario (YAML or JSON; examples in queueing/scenarios/) with the live "
        "routing policy and print the waits per lane, business type and hour, the service level "
        "and each counter's utilisation."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scenario", required=True, help="the scenario file (YAML or JSON)")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
        parser.add_argument(
            "--replications", type=int, help="independent days (default: the scenario's)"
        )
        parser.add_argument(
            "--customers",
            type=int,
            help="run as many days as it takes for about this many customers (benchmarks)",
        )

    def handle(self, *args, scenario, json: bool, seed, replications, customers, **options):
        try:
            loaded = load_scenario(scenario)
        except ScenarioError as exc:
            problem = _(exc.message) % exc.params if exc.params else _(exc.message)
            if exc.field == scenario:  # the file itself: unreadable, or not YAML/JSON
                raise CommandError(
                    _("Bad scenario %(file)s: %(problem)s") % {"file": scenario, "problem": problem}
                ) from exc
            raise CommandError(
                _("Bad scenario %(file)s: %(field)s: %(problem)s")
                % {"file": scenario, "field": exc.field, "problem": problem}
            ) from exc
        if replications is not None and replications < 1:
            raise CommandError(_("--replications must be at least 1."))
        if customers is not None:
            if customers < 1:
                raise CommandError(_("--customers must be at least 1."))
            per_day = loaded.expected_customers()
            if per_day <= 0:
                raise CommandError(_("The scenario expects no customers to scale."))
            replications = max(1, math.ceil(customers / per_day))
        result = simulate(loaded, seed=seed, replications=replications)
        if json:
            self.stdout.write(_dumps(result.to_dict()))
        else:
            self.stdout.write(result.table())


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
