"""The display pages (included under /display/ by config/urls.py)."""

from django.urls import path

from display import views

app_name = "display"

urlpatterns = [
    path("halls/<slug:code>/lobby/", views.lobby_display, name="lobby"),
    path("counters/<int:counter_id>/", views.counter_display, name="counter"),
]
