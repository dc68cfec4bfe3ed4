"""The report pages (included at the root by config/urls.py)."""

from django.urls import path

from reports import views

urlpatterns = [
    path("reports/<slug:hall>/", views.daily_report_page, name="reports"),
    # Under /console/ beside the clerk console (counters/urls.py), which links to it.
    path(
        "console/<slug:hall>/interruptions/",
        views.interruptions_page,
        name="interruptions-page",
    ),
]
