"""WebSocket routes. The display streams arrive with the live-displays issue."""

websocket_urlpatterns: list = []
