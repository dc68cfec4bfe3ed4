"""The start page and signing in and out (included at the root by config/urls.py)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from hall import complaints_views, incident_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The acknowledge link of an incident's e-mail (signed; no login).
    path(
        "incidents/<int:incident_id>/acknowledge/",
        incident_views.incident_acknowledge_page,
        name="incident-acknowledge-page",
    ),
    # Under /console/ beside the clerk console (counters/urls.py), which these pages link from.
    path(
        "console/<slug:hall>/complaints/",
        complaints_views.complaints_page,
        name="complaints-page",
    ),
    path(
        "console/<slug:hall>/interruptions/",
        complaints_views.interruptions_page,
        name="interruptions-page",
    ),
]
