from django.core.management.base import BaseCommand, CommandError

from hall.models import DeviceKind, Hall
from hall.services import device_register


class Command(BaseCommand):
    help = "Register a kiosk or display device for a hall and print its token alone on one line."

    def add_arguments(self, parser):
        parser.add_argument("--hall", required=True, help="the hall's code")
        parser.add_argument("--kind", required=True, choices=DeviceKind.values)
        parser.add_argument("--name", default="", help="a name to recognise the device by")

    def handle(self, *args, hall: str, kind: str, name: str, **options):
        found = Hall.objects.filter(code=hall).first()
        if found is None:
            raise CommandError(f"No hall with code {hall!r}.")
        _, token = device_register(hall=found, kind=kind, name=name)
        self.stdout.write(token)
