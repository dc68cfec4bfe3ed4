from django.contrib import admin
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from counters.api import counters as counters_api
from counters.api import ratings as ratings_api
from counters.views import rating_pad
from display import api as display_api
from display import devices as display_devices
from display.wall import views as wall_views
from display.wall.api import hourly as hourly_api
from display.wall.api import metrics as metrics_api
from hall import api as hall_api
from hall.errors import api_not_found
from queueing import api as queueing_api
from queueing.appointments import api as appointments_api
from recovery.api import complaints as complaints_api
from recovery.api import incidents as incidents_api
from reports.api import apologies as apologies_api
from reports.api import daily as reports_api
from reports.api import interruptions as interruptions_api

counter_actions = [
    ("open", counters_api.CounterOpenApi),
    ("close", counters_api.CounterCloseApi),
    ("call-next", counters_api.CounterCallNextApi),
    ("recall", counters_api.CounterRecallApi),
    ("start", counters_api.CounterStartApi),
    ("finish", counters_api.CounterFinishApi),
    ("no-show", counters_api.CounterNoShowApi),
    ("requeue", counters_api.CounterRequeueApi),
    ("transfer", counters_api.CounterTransferApi),
    ("pause", counters_api.CounterPauseApi),
    ("resume", counters_api.CounterResumeApi),
]

api_v1 = [
    path("auth/token/", hall_api.TokenLoginApi.as_view(), name="auth-token"),
    path(
        "halls/<slug:hall>/business-types/",
        queueing_api.BusinessTypeListApi.as_view(),
        name="business-types",
    ),
    path("halls/<slug:hall>/counters/", counters_api.CounterListApi.as_view(), name="counters"),
    path("halls/<slug:hall>/incidents/", incidents_api.IncidentListApi.as_view(), name="incidents"),
    path(
        "incidents/<int:incident_id>/acknowledge/",
        incidents_api.IncidentAcknowledgeApi.as_view(),
        name="incident-acknowledge",
    ),
    path(
        "incidents/<int:incident_id>/resolve/",
        incidents_api.IncidentResolveApi.as_view(),
        name="incident-resolve",
    ),
    path(
        "halls/<slug:hall>/complaints/",
        complaints_api.ComplaintListApi.as_view(),
        name="complaints",
    ),
    path(
        "complaints/<int:complaint_id>/reply/",
        complaints_api.ComplaintReplyApi.as_view(),
        name="complaint-reply",
    ),
    path("halls/<slug:hall>/apologies/", apologies_api.ApologyLogApi.as_view(), name="apologies"),
    path(
        "halls/<slug:hall>/interruptions/",
        interruptions_api.InterruptionsReportApi.as_view(),
        name="interruptions",
    ),
    path("halls/<slug:hall>/snapshot/", display_api.HallSnapshotApi.as_view(), name="snapshot"),
    path(
        "halls/<slug:hall>/reports/daily/",
        reports_api.HallDailyReportApi.as_view(),
        name="hall-daily-report",
    ),
    path("reports/daily/", reports_api.DailyReportsApi.as_view(), name="daily-reports"),
    path("halls/<slug:hall>/metrics/", metrics_api.HallMetricsApi.as_view(), name="metrics"),
    path(
        "halls/<slug:hall>/metrics/hourly/",
        hourly_api.HallHourlyApi.as_view(),
        name="metrics-hourly",
    ),
    path("halls/<slug:hall>/tickets/", queueing_api.TicketIssueApi.as_view(), name="ticket-issue"),
    path("tickets/<int:ticket_id>/", queueing_api.TicketDetailApi.as_view(), name="ticket"),
    path(
        "tickets/<int:ticket_id>/cancel/",
        queueing_api.TicketCancelApi.as_view(),
        name="ticket-cancel",
    ),
    path(
        "tickets/<int:ticket_id>/transfer/",
        queueing_api.TicketTransferApi.as_view(),
        name="ticket-transfer",
    ),
    path(
        "tickets/<int:ticket_id>/rating/",
        ratings_api.TicketRatingApi.as_view(),
        name="ticket-rating",
    ),
    # Tokens are secrets.token_urlsafe, i.e. slugs; anything else (a NUL byte crashes
    # PostgreSQL) is not looked up at all and gets the JSON 404 below.
    path("t/<slug:token>/", queueing_api.PublicTicketApi.as_view(), name="public-ticket"),
    # Appointments (issue 18)
    path(
        "halls/<slug:hall>/bookable/", appointments_api.BookableListApi.as_view(), name="bookable"
    ),
    path(
        "halls/<slug:hall>/bookable/<slug:code>/slots/",
        appointments_api.SlotListApi.as_view(),
        name="booking-slots",
    ),
    path(
        "halls/<slug:hall>/phone-codes/",
        appointments_api.PhoneCodeApi.as_view(),
        name="booking-phone-code",
    ),
    path(
        "halls/<slug:hall>/bookings/",
        appointments_api.BookingCreateApi.as_view(),
        name="booking-create",
    ),
    path(
        "halls/<slug:hall>/bookings/check-in/",
        appointments_api.CheckInApi.as_view(),
        name="booking-check-in",
    ),
    path(
        "bookings/<slug:booking_code>/cancel/",
        appointments_api.BookingCancelApi.as_view(),
        name="booking-cancel",
    ),
    *(
        path(f"counters/<int:counter_id>/{action}/", view.as_view(), name=f"counter-{action}")
        for action, view in counter_actions
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]


def healthz(request):
    return JsonResponse({"ok": True})


# The admin pages of the models that moved from hall to recovery (issue 15) had their addresses
# under /admin/hall/; bookmarks and links in old e-mails still lead there.
MOVED_TO_RECOVERY = "complaint|manageralert|departmentroute|escalationattempt"


def admin_moved(request, model: str, rest: str = ""):
    query = request.META.get("QUERY_STRING", "")
    target = f"/admin/recovery/{model}/{rest}" + (f"?{query}" if query else "")
    return HttpResponsePermanentRedirect(target)


# Unhandled errors: 503 while a dependency (the database) is down, else 500; JSON for the API.
handler500 = "hall.errors.server_error"
handler404 = "hall.errors.page_or_api_not_found"

urlpatterns = [
    path("api/v1/", include(api_v1)),
    # The error shape for any other /api/ path and method (no CSRF page), newlines included.
    re_path(r"^api/[\s\S]*\Z", api_not_found),
    re_path(rf"^admin/hall/(?P<model>{MOVED_TO_RECOVERY})/(?P<rest>.*)$", admin_moved),
    path("admin/", admin.site.urls),
    path("display/", include("display.urls")),
    path("wall/<slug:hall>/", wall_views.wall_page, name="wall"),
    path("devices/<slug:hall>/", display_devices.devices_page, name="devices"),
    path("console/", include("counters.urls")),
    path("rate/<int:counter_id>/", rating_pad.rating_pad, name="rating-pad"),
    path("", include("reports.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz/", healthz),
    path("", include("queueing.urls")),
    path("", include("recovery.urls")),
    path("", include("hall.urls")),
]
