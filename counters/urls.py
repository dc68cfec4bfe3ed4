"""The clerk console (included under /console/ by config/urls.py)."""

from django.urls import path

from counters import console_incidents, views

urlpatterns = [
    path("counters/<int:counter_id>/", views.console_counter, name="console-counter"),
    path("counters/<int:counter_id>/panel/", views.console_panel, name="console-panel"),
    path("counters/<int:counter_id>/transfer/", views.console_transfer, name="console-transfer"),
    path(
        "counters/<int:counter_id>/incidents/",
        console_incidents.console_incidents,
        name="console-incidents",
    ),
    path("<slug:hall>/", views.console_hall, name="console"),
]
