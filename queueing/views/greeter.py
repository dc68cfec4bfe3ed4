"""placeholder: filled in by the greeter page."""

urlpatterns: list = []
