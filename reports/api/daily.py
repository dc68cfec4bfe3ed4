"""Daily reports over the API, as JSON, CSV or Excel (``?format=json|csv|xlsx``):

    GET /api/v1/halls/{hall}/reports/daily/?date=YYYY-MM-DD   one hall (its managers)
    GET /api/v1/reports/daily/?date=YYYY-MM-DD&halls=a,b,c     many halls (those the caller
                                                               manages; a superuser any)

``halls`` left out means every hall the caller manages (at most ``MAX_HALLS`` per request).
The figures and their definitions: ``reports/daily.py``; the files: ``reports/files.py``.
"""

import datetime

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from hall.api import IsStaff
from hall.errors import Forbidden, InvalidInput, NotFound
from hall.models import Hall, Role, StaffMembership
from hall.selectors import staff_role
from queueing.models import NoticeStatus
from reports.daily import MAX_HALLS, halls_daily_reports
from reports.files import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    report_csv,
    report_tables,
    report_xlsx,
)

FORMATS = ("json", "csv", "xlsx")


class FormatIsOurs(DefaultContentNegotiation):
    """``?format=`` picks the report's file type here, not a DRF renderer: JSON it is, and the
    views answer csv and xlsx with files themselves (an unknown format is a 400, not DRF's 404)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# --- output (for the OpenAPI schema; the views return the report's dicts) ---------------------


class ReportNamesOutput(serializers.Serializer):
    zh = serializers.CharField()
    en = serializers.CharField()


class ReportFlowOutput(serializers.Serializer):
    arrivals = serializers.IntegerField(help_text="Tickets issued (by hour: in that hour).")
    served = serializers.IntegerField()
    no_shows = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    expired = serializers.IntegerField()
    transfers = serializers.IntegerField()
    mean_wait_s = serializers.IntegerField(allow_null=True)
    p90_wait_s = serializers.IntegerField(allow_null=True)
    service_level = serializers.FloatField(
        allow_null=True, help_text="0..1: the share called within the hall's target wait."
    )


class ReportSummaryOutput(ReportFlowOutput):
    interruptions = serializers.IntegerField()
    interruption_minutes = serializers.FloatField()
    incidents = serializers.IntegerField()
    incident_minutes = serializers.FloatField()
    customers_affected = serializers.IntegerField()
    ratings = serializers.IntegerField()
    satisfaction = serializers.FloatField(allow_null=True, help_text="0..100")


class ReportHourOutput(ReportFlowOutput):
    hour = serializers.IntegerField(help_text="Hour of arrival, hall's local time (0..23).")


class ReportTypeOutput(ReportFlowOutput):
    business_type = serializers.CharField(allow_null=True)
    name_zh = serializers.CharField()
    name_en = serializers.CharField()


class ReportHourTypeOutput(ReportTypeOutput):
    hour = serializers.IntegerField()


class ReportInterruptionOutput(serializers.Serializer):
    reason = serializers.CharField()
    label = ReportNamesOutput()
    count = serializers.IntegerField()
    minutes = serializers.FloatField(help_text="Within the day; an open one up to now.")


class ReportIncidentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    label = ReportNamesOutput()
    severity = serializers.CharField()
    severity_label = ReportNamesOutput()
    opened_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    minutes = serializers.FloatField(help_text="Within the day; an open one up to now.")
    customers_affected = serializers.IntegerField(allow_null=True)


class ReportReasonOutput(serializers.Serializer):
    reason = serializers.CharField()
    label = ReportNamesOutput()
    count = serializers.IntegerField()


class ReportNoticesOutput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=NoticeStatus.choices,
        help_text="logged: no gateway is configured, the text went to the log and to no phone.",
    )
    label = ReportNamesOutput()
    count = serializers.IntegerField()


class ReportSatisfactionOutput(serializers.Serializer):
    ratings = serializers.IntegerField()
    score = serializers.FloatField(allow_null=True, help_text="Mean score 0..100.")
    target = serializers.IntegerField()
    very_satisfied = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    dissatisfied = serializers.IntegerField()
    reasons = ReportReasonOutput(many=True)


class ReportClerkOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    served = serializers.IntegerField()
    mean_service_s = serializers.IntegerField(allow_null=True)
    pauses = serializers.IntegerField()
    pause_minutes = serializers.FloatField()
    ratings = serializers.IntegerField()
    score = serializers.FloatField(allow_null=True)


class ReportHallOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    timezone = serializers.CharField()


class DailyReportOutput(serializers.Serializer):
    hall = ReportHallOutput()
    date = serializers.DateField()
    generated_at = serializers.DateTimeField()
    target_wait_s = serializers.IntegerField()
    summary = ReportSummaryOutput()
    by_hour = ReportHourOutput(many=True)
    by_business_type = ReportTypeOutput(many=True)
    by_hour_and_type = ReportHourTypeOutput(many=True)
    interruptions = ReportInterruptionOutput(many=True)
    incidents = ReportIncidentOutput(many=True)
    satisfaction = ReportSatisfactionOutput()
    phone_notices = ReportNoticesOutput(
        many=True, help_text="The texts owed to the day's tickets, by what became of them."
    )
    clerks = ReportClerkOutput(many=True)


class DailyReportsOutput(serializers.Serializer):
    date = serializers.DateField()
    halls = DailyReportOutput(many=True)


# --- input ------------------------------------------------------------------------------------

DATE_PARAMETER = OpenApiParameter(
    "date", OpenApiTypes.DATE, required=True, description="The service date, YYYY-MM-DD."
)
FORMAT_PARAMETER = OpenApiParameter(
    "format", str, enum=list(FORMATS), description="json (default), csv or xlsx (Excel)."
)
FILE_RESPONSES = {
    (200, CSV_MEDIA_TYPE): OpenApiResponse(
        OpenApiTypes.STR, description="format=csv: the tables one after another (UTF-8, BOM)."
    ),
    (200, XLSX_MEDIA_TYPE): OpenApiResponse(
        OpenApiTypes.BINARY, description="format=xlsx: one sheet per table."
    ),
}


def _date_and_format(request) -> tuple[datetime.date, str]:
    raw = request.query_params.get("date", "")
    try:
        date = datetime.date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        date = None
    if date is None:
        raise InvalidInput(
            _("Give the date as YYYY-MM-DD."), fields={"date": "a date as YYYY-MM-DD"}
        )
    file_format = request.query_params.get("format", "json") or "json"
    if file_format not in FORMATS:
        raise InvalidInput(fields={"format": f"one of {', '.join(FORMATS)}"})
    return date, file_format


def _answer(
    request, reports: list[dict], *, date: datetime.date, file_format: str, name: str, body
):
    """The report in ``file_format``. Every file is named ``report-<hall>-<date>.<ext>``
    (``report-all-halls-<date>`` for several halls); JSON asked for by name (``format=json``,
    as the page's download link does) is a download too, the plain API answer is not."""
    filename = f"report-{name}-{date.isoformat()}.{file_format}"
    if file_format == "json":
        response = Response(body)
        if "format" in request.query_params:
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    tables = report_tables(reports)
    if file_format == "csv":
        content, media_type = report_csv(tables), f"{CSV_MEDIA_TYPE}; charset=utf-8"
    else:
        content, media_type = report_xlsx(tables), XLSX_MEDIA_TYPE
    response = HttpResponse(content, content_type=media_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class HallDailyReportApi(APIView):
    permission_classes = [IsStaff]
    content_negotiation_class = FormatIsOurs

    @extend_schema(
        parameters=[DATE_PARAMETER, FORMAT_PARAMETER],
        responses={(200, "application/json"): DailyReportOutput, **FILE_RESPONSES},
        summary="A hall's daily report (managers): JSON, CSV or Excel",
        description=(
            "By hour and business type (arrivals, served, waits, service level, no-shows), "
            "interruptions, incidents, satisfaction, phone notices and clerks, from the day's "
            "records. Files are named report-<hall>-<date>.<ext>. "
            "400 for a missing or malformed date or an unknown format."
        ),
    )
    def get(self, request, hall: str):
        hall_obj = Hall.objects.filter(code=hall).first()
        if hall_obj is None:
            raise NotFound(_("No hall with code %(code)s.") % {"code": hall})
        if staff_role(user=request.user, hall=hall_obj) != Role.MANAGER:
            raise Forbidden(_("Reports are for this hall's managers."))
        date, file_format = _date_and_format(request)  # after the role: no hints to outsiders
        (report,) = halls_daily_reports(halls=[hall_obj], date=date)
        return _answer(
            request,
            [report],
            date=date,
            file_format=file_format,
            name=hall_obj.code,
            body=DailyReportOutput(report).data,
        )


class DailyReportsApi(APIView):
    permission_classes = [IsStaff]
    content_negotiation_class = FormatIsOurs

    @extend_schema(
        parameters=[
            DATE_PARAMETER,
            OpenApiParameter(
                "halls",
                str,
                description=(
                    "Hall codes, comma-separated; left out: every hall you manage. "
                    f"At most {MAX_HALLS}."
                ),
            ),
            FORMAT_PARAMETER,
        ],
        responses={(200, "application/json"): DailyReportsOutput, **FILE_RESPONSES},
        summary="Daily reports of many halls at once (the halls you manage)",
        description=(
            "The same report as /halls/{hall}/reports/daily/ for each hall; CSV and Excel hold "
            "every hall's rows in the same tables (the first column is the hall's code). 403 "
            "if you do not manage one of the halls, 404 for an unknown code, 400 for a bad "
            "date or format or too many halls."
        ),
    )
    def get(self, request):
        halls = _managed_halls(request.user, request.query_params.get("halls", ""))
        date, file_format = _date_and_format(request)  # after the role check of each hall
        reports = halls_daily_reports(halls=halls, date=date)
        body = {"date": date, "halls": reports}
        return _answer(
            request,
            reports,
            date=date,
            file_format=file_format,
            name=halls[0].code if len(halls) == 1 else "all-halls",
            body=DailyReportsOutput(body).data,
        )


def _managed_halls(user, codes_param: str) -> list[Hall]:
    codes = [code.strip() for code in codes_param.split(",") if code.strip()]
    if user.is_superuser:
        managed = Hall.objects.all()
    else:
        managed = Hall.objects.filter(
            pk__in=StaffMembership.objects.filter(user=user, role=Role.MANAGER).values("hall")
        )
        if not managed.exists():
            raise Forbidden(_("Reports are for the halls' managers."))
    if not codes:
        halls = list(managed.order_by("code")[: MAX_HALLS + 1])
    else:
        codes = list(dict.fromkeys(codes))
        if len(codes) > MAX_HALLS:
            halls = codes  # refused just below, before any lookup
        else:
            found = {hall.code: hall for hall in Hall.objects.filter(code__in=codes)}
            unknown = [code for code in codes if code not in found]
            if unknown:
                raise NotFound(_("No hall with code %(code)s.") % {"code": unknown[0]})
            allowed = set(managed.filter(code__in=codes).values_list("code", flat=True))
            refused = [code for code in codes if code not in allowed]
            if refused:
                raise Forbidden(_("You do not manage the hall %(code)s.") % {"code": refused[0]})
            halls = [found[code] for code in codes]
    if len(halls) > MAX_HALLS:
        raise InvalidInput(
            _("At most %(max)s halls per request: name them with halls=a,b,c.")
            % {"max": MAX_HALLS},
            fields={"halls": f"at most {MAX_HALLS}"},
        )
    return halls
