"""The clerk console (included under /console/ by config/urls.py)."""

from django.urls import path

from counters.views import console, incidents

urlpatterns = [
    path("counters/<int:counter_id>/", console.console_counter, name="console-counter"),
    path("counters/<int:counter_id>/panel/", console.console_panel, name="console-panel"),
    path("counters/<int:counter_id>/transfer/", console.console_transfer, name="console-transfer"),
    path(
        "counters/<int:counter_id>/incidents/",
        incidents.console_incidents,
        name="console-incidents",
    ),
    path("<slug:hall>/", console.console_hall, name="console"),
]
