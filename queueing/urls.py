"""The ticket pages (included at the root by config/urls.py)."""

from queueing.views import greeter, kiosk, planner, status

urlpatterns = [
    *kiosk.urlpatterns,
    *greeter.urlpatterns,
    *status.urlpatterns,
    *planner.urlpatterns,
]
