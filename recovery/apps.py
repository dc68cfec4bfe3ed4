from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from hall.events import event_subscribe


class RecoveryConfig(AppConfig):
    name = "recovery"
    verbose_name = _("Service recovery")

    def ready(self):
        from recovery.hooks import alerts_after_event  # loads the models

        # The alerts follow the events that can raise or clear them, after commit and after the
        # live frames of the same change.
        event_subscribe(alerts_after_event, after_publishers=True)
