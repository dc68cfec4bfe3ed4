from django.core.management.base import BaseCommand, CommandError

from hall.models import Hall
from queueing.services import day_close


class Command(BaseCommand):
    help = (
        "Expire what is left of the service day: tickets of past days, and today's waiting and "
        "called tickets once the hall has closed. Celery beat runs this every 15 minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hall", help="one hall's code (default: every hall)")
        parser.add_argument(
            "--force", action="store_true", help="close today too, even before closing time"
        )

    def handle(self, *args, hall: str | None, force: bool, **options):
        halls = Hall.objects.all()
        if hall:
            halls = halls.filter(code=hall)
            if not halls.exists():
                raise CommandError(f"No hall with code {hall!r}.")
        for each in halls:
            expired = day_close(hall=each, force=force)
            self.stdout.write(f"{each.code}: expired {expired} ticket(s)")
