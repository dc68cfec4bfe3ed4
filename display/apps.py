from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from hall.events import event_subscribe, reset_subscribe


class DisplayConfig(AppConfig):
    name = "display"
    verbose_name = _("Displays")

    def ready(self):
        from display.publisher import event_publish, hall_reset_publish  # loads the models

        # The services reach the live side through hall's event hook, never by importing display.
        event_subscribe(event_publish)
        reset_subscribe(hall_reset_publish)
