import random
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from counters import services as counter_services
from counters.models import Counter, CounterState
from hall.demo import BUSINESS_TYPES
from hall.errors import DomainError
from hall.models import Hall
from queueing.models import ACTIVE_STATUSES, Status, Ticket
from queueing.services import ticket_issue


class Command(BaseCommand):
    help = (
        "Drive the demo hall with simulated customers and clerks so that displays move "
        "(make run DEMO_LIVE=1). Runs through the real services, like people would."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hall", default="demo")
        parser.add_argument("--arrivals-per-minute", type=float, default=12.0)
        parser.add_argument(
            "--speed", type=float, default=10.0, help="how many times faster than real service"
        )
        parser.add_argument("--minutes", type=float, default=0, help="stop after (0: never)")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, hall, arrivals_per_minute, speed, minutes, seed, **options):
        found = Hall.objects.filter(code=hall).first()
        if found is None:
            raise CommandError(f"No hall with code {hall!r}: run seed_demo first.")
        rng = random.Random(seed)
        clerks = self._open_counters(found)
        minutes_of = {code: m for code, _, _, _, m, _ in BUSINESS_TYPES}
        deadline = time.monotonic() + minutes * 60 if minutes else None
        next_arrival = time.monotonic()
        self.stdout.write(f"Driving {found.code}: {len(clerks)} counters open. Ctrl-C to stop.")
        while deadline is None or time.monotonic() < deadline:
            if time.monotonic() >= next_arrival:
                self._arrive(found, rng)
                next_arrival += rng.expovariate(arrivals_per_minute / 60.0)
            for counter_id, clerk in clerks.items():
                self._work(counter_id, clerk, rng, speed, minutes_of)
            time.sleep(0.5)

    def _open_counters(self, hall) -> dict:
        clerk_users = get_user_model().objects.filter(username__startswith="clerk")
        users = {user.username: user for user in clerk_users}
        clerks = {}
        for counter in Counter.objects.filter(hall=hall).order_by("number"):
            clerk = counter.clerk or users.get(f"clerk{counter.number}")
            if clerk is None:
                continue
            if counter.state == CounterState.CLOSED:
                counter_services.counter_open(counter_id=counter.pk, user=clerk)
            clerks[counter.pk] = clerk
        return clerks

    def _arrive(self, hall, rng) -> None:
        code = rng.choice([code for code, *_ in BUSINESS_TYPES])
        lane, reason = rng.choices(
            [("normal", ""), ("priority", "elderly"), ("priority", "disabled"), ("vip", "vip")],
            weights=[80, 10, 3, 7],
        )[0]
        greeter = get_user_model().objects.filter(username="greeter").first()
        try:
            issued = ticket_issue(
                hall=hall,
                business_type_code=code,
                lane=lane,
                priority_reason=reason,
                issued_by=greeter,
            )
            self.stdout.write(f"issued {issued.ticket.number} ({lane})")
        except DomainError as err:
            self.stderr.write(f"issue refused: {err.message}")

    def _work(self, counter_id, clerk, rng, speed, minutes_of) -> None:
        counter = Counter.objects.get(pk=counter_id)
        if counter.state == CounterState.CLOSED:
            return
        ticket = Ticket.objects.filter(counter=counter, status__in=ACTIVE_STATUSES).first()
        now = timezone.now()
        try:
            if counter.state == CounterState.PAUSED:
                if (now - counter.state_changed_at).total_seconds() > 60 / speed * 3:
                    counter_services.counter_resume(counter_id=counter_id, user=clerk)
            elif ticket is None:
                if rng.random() < 0.01:
                    counter_services.counter_pause(
                        counter_id=counter_id, user=clerk, reason="fetching_materials"
                    )
                else:
                    counter_services.counter_call_next(counter_id=counter_id, user=clerk)
            elif ticket.status == Status.CALLED:
                if (now - ticket.called_at).total_seconds() > 20 / speed:
                    if rng.random() < 0.05:
                        counter_services.counter_no_show(counter_id=counter_id, user=clerk)
                    else:
                        counter_services.counter_start(counter_id=counter_id, user=clerk)
            elif ticket.status == Status.SERVING:
                expected = minutes_of.get(ticket.business_type.code, 5) * 60 / speed
                if (now - ticket.started_at).total_seconds() > rng.expovariate(1 / expected):
                    counter_services.counter_finish(counter_id=counter_id, user=clerk)
        except DomainError as err:
            self.stderr.write(f"counter {counter.number}: {err.message}")
