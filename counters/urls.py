"""The clerk console (included under /console/ by config/urls.py)."""

urlpatterns: list = []
