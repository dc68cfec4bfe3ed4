from django.core.management.base import BaseCommand

from config.demo import DEMO_PASSWORD, STAFF, seed_demo
from counters.models import Counter


class Command(BaseCommand):
    help = "Create or refresh the demo hall (code 'demo') and print its URLs and logins."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, base_url: str, **options):
        result = seed_demo()
        hall, tokens = result["hall"], result["tokens"]
        base = base_url.rstrip("/")
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
            url = f"{base}/display/counters/{counter.pk}/{display}"
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
