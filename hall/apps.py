from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HallConfig(AppConfig):
    name = "hall"
    verbose_name = _("Halls")

    def ready(self):
        from django.contrib import admin

        # The admin's own titles say "Django administration"; the hall's staff see theirs.
        admin.site.site_header = _("Business hall administration")
        admin.site.site_title = _("Business hall administration")
        admin.site.index_title = _("Halls, counters and tickets")
