"""WebSocket routes (DESIGN.md's contract)."""

from django.urls import path

from display import consumers

websocket_urlpatterns = [
    path("ws/halls/<slug:hall>/display/", consumers.LobbyConsumer.as_asgi()),
    path("ws/halls/<slug:hall>/wall/", consumers.WallConsumer.as_asgi()),
    path("ws/counters/<int:counter_id>/display/", consumers.CounterConsumer.as_asgi()),
]
