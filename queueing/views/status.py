"""placeholder: filled in by the status page."""

urlpatterns: list = []
