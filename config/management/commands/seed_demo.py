import socket

from django.core.management.base import BaseCommand, CommandError

from config.demo import DEMO_PASSWORD, STAFF, seed_demo
from counters.models import Counter


class Command(BaseCommand):
    help = "Create or refresh the demo hall (code 'demo') and print its URLs and logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            default="127.0.0.1:8000",
            help="the address the server listens on (make run passes HOST:PORT); on 0.0.0.0 "
            "the URLs name this machine's address on the hall's network, for its devices",
        )
        parser.add_argument("--base-url", help="print the URLs under this one instead")

    def handle(self, *args, bind: str, base_url: str | None, **options):
        base = (base_url or f"http://{reachable(bind)}").rstrip("/")
        result = seed_demo()
        hall, tokens = result["hall"], result["tokens"]
        out = self.stdout.write
        out(self.style.SUCCESS(f"Demo hall ready: {hall.name} ({hall.code}), {hall.timezone}"))
        out("")
        out(f"  Start (sign in)      {base}/                  (any login below)")
        out(f"  Kiosk                {base}/kiosk/{hall.code}/?token={tokens['kiosk']}")
        out(f"  Greeter tablet       {base}/greeter/{hall.code}/      (greeter / {DEMO_PASSWORD})")
        clerks = f"clerk1..clerk8 / {DEMO_PASSWORD}"
        out(f"  Clerk console        {base}/console/{hall.code}/      ({clerks})")
        out(f"  Complaints           {base}/console/{hall.code}/complaints/")
        out(f"  Hall wall            {base}/wall/{hall.code}/         (manager / {DEMO_PASSWORD})")
        out(f"  Daily report         {base}/reports/{hall.code}/      (manager / {DEMO_PASSWORD})")
        out(f"  Planner              {base}/planner/{hall.code}/      (manager / {DEMO_PASSWORD})")
        out(f"  Devices (set-up)     {base}/devices/{hall.code}/      (manager / {DEMO_PASSWORD})")
        out(f"  API docs (Swagger)   {base}/api/v1/docs/")
        out(f"  Admin                {base}/admin/            (manager / {DEMO_PASSWORD})")
        out(f"  Business types       {base}/api/v1/halls/{hall.code}/business-types/")
        out(f"  Counters             {base}/api/v1/halls/{hall.code}/counters/")
        out("")
        out(f"  Logins (password '{DEMO_PASSWORD}'): " + ", ".join(name for name, _ in STAFF))
        out(f"  Kiosk device token   {tokens['kiosk']}")
        out(f"  Display device token {tokens['display']}")
        out(f"  Rating pad token     {tokens['rating_pad']}")
        out("  Faults are escalated to the demo's IT department by e-mail: see var/mail/")
        out("")
        display = f"?token={tokens['display']}"
        out(f"  Lobby display        {base}/display/halls/{hall.code}/lobby/{display}")
        for counter in Counter.objects.filter(hall=hall).order_by("number"):
            url = f"{base}/display/{hall.code}/counters/{counter.number}/{display}"
            out(f"  Counter {counter.number} display    {url}")
        pad = f"?token={tokens['rating_pad']}"
        for counter in Counter.objects.filter(hall=hall).order_by("number"):
            out(f"  Counter {counter.number} rating pad {base}/rate/{counter.pk}/{pad}")
        out("")
        out("  Try it:")
        out(
            f"    curl -s -X POST {base}/api/v1/halls/{hall.code}/tickets/ "
            f"-H 'Authorization: Device {tokens['kiosk']}' "
            "-H 'Content-Type: application/json' -d '{\"business_type\": \"payment\"}'"
        )
        out("")


def reachable(bind: str) -> str:
    """``host:port`` as a device would type it: a wildcard address becomes this machine's address
    on its network (the route to a public address picks it; nothing is sent)."""
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit():
        raise CommandError(f"--bind takes HOST:PORT, not {bind!r}")
    if host in ("0.0.0.0", "", "::", "[::]"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet leaves for a UDP connect
                host = probe.getsockname()[0]
        except OSError:  # no network at all: this machine is the only one that can reach it
            host = "127.0.0.1"
    return f"{host}:{port}"
