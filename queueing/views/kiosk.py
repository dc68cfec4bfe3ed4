"""placeholder: filled in by the kiosk page."""

urlpatterns: list = []
