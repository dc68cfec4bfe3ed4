"""The display pages (included under /display/ by config/urls.py)."""

from django.urls import path

from display import views

app_name = "display"

urlpatterns = [
    path("halls/<slug:code>/lobby/", views.lobby_display, name="lobby"),
    path("<slug:code>/counters/<int:number>/", views.counter_display, name="counter"),
    # The first address of a counter's screen, by database id: redirects to the one above.
    path("counters/<int:counter_id>/", views.counter_display_by_id, name="counter-by-id"),
]
