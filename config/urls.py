from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.utils.translation import gettext as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from counters import api as counters_api
from display import api as display_api
from hall import api as hall_api
from queueing import api as queueing_api

counter_actions = [
    ("open", counters_api.CounterOpenApi),
    ("close", counters_api.CounterCloseApi),
    ("call-next", counters_api.CounterCallNextApi),
    ("recall", counters_api.CounterRecallApi),
    ("start", counters_api.CounterStartApi),
    ("finish", counters_api.CounterFinishApi),
    ("no-show", counters_api.CounterNoShowApi),
    ("transfer", counters_api.CounterTransferApi),
    ("pause", counters_api.CounterPauseApi),
    ("resume", counters_api.CounterResumeApi),
]

api_v1 = [
    path("auth/token/", hall_api.TokenLoginApi.as_view(), name="auth-token"),
    path(
        "halls/<slug:hall>/business-types/",
        hall_api.BusinessTypeListApi.as_view(),
        name="business-types",
    ),
    path("halls/<slug:hall>/counters/", counters_api.CounterListApi.as_view(), name="counters"),
    path("halls/<slug:hall>/snapshot/", display_api.HallSnapshotApi.as_view(), name="snapshot"),
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
    # Tokens are secrets.token_urlsafe, i.e. slugs; anything else (a NUL byte crashes
    # PostgreSQL) is not looked up at all and gets the JSON 404 below.
    path("t/<slug:token>/", queueing_api.PublicTicketApi.as_view(), name="public-ticket"),
    *(
        path(f"counters/<int:counter_id>/{action}/", view.as_view(), name=f"counter-{action}")
        for action, view in counter_actions
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]


def healthz(request):
    return JsonResponse({"ok": True})


def api_not_found(request, *args, **kwargs):
    return JsonResponse(
        {"error": {"code": "not_found", "message": _("No such API endpoint."), "fields": {}}},
        status=404,
    )


urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/<path:rest>", api_not_found),
    path("admin/", admin.site.urls),
    path("display/", include("display.urls")),
    path("console/", include("counters.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz/", healthz),
    path("", include("queueing.urls")),
    path("", include("hall.urls")),
]
