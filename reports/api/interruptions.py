"""Thin API view for the interruptions report: pauses by clerk, reason and day."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from counters.models import PauseReason
from hall.access import READ_REPORTS, admit_to_hall
from hall.api import IsStaff
from hall.people import display_name
from reports.api.apologies import DATE_PARAMETER, date_param
from reports.interruptions import interruptions_report


class InterruptionClerkOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return display_name(user)


class InterruptionReportRowOutput(serializers.Serializer):
    id = serializers.IntegerField()
    counter = serializers.IntegerField(source="counter.number", help_text="The counter's number.")
    clerk = InterruptionClerkOutput()
    reason = serializers.ChoiceField(choices=PauseReason.choices)
    reason_label = serializers.CharField(source="get_reason_display")
    note = serializers.CharField()
    apology_zh = serializers.CharField(help_text="The apology customers saw.")
    apology_en = serializers.CharField()
    ticket = serializers.CharField(
        source="ticket.number",
        allow_null=True,
        default=None,
        help_text="The ticket being served when the pause began.",
    )
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    duration_s = serializers.IntegerField(help_text="So far, while ongoing.")
    ongoing = serializers.BooleanField()


class InterruptionReportTotalOutput(serializers.Serializer):
    count = serializers.IntegerField()
    duration_s = serializers.IntegerField()


class InterruptionClerkTotalOutput(InterruptionReportTotalOutput):
    clerk = InterruptionClerkOutput()


class InterruptionReasonTotalOutput(InterruptionReportTotalOutput):
    reason = serializers.ChoiceField(choices=PauseReason.choices)
    reason_label = serializers.CharField()


class InterruptionsReportOutput(serializers.Serializer):
    date = serializers.DateField()
    interruptions = InterruptionReportRowOutput(many=True)
    by_clerk = InterruptionClerkTotalOutput(many=True)
    by_reason = InterruptionReasonTotalOutput(many=True)
    total = InterruptionReportTotalOutput()


class InterruptionsReportApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        parameters=[DATE_PARAMETER],
        responses=InterruptionsReportOutput,
        summary="Service interruptions of a day: each pause with its duration and apology, "
        "totals per clerk and per reason (managers of the hall)",
    )
    def get(self, request, hall: str):
        hall, _role = admit_to_hall(
            who=request.user,
            code=hall,
            action=READ_REPORTS,
            refusal=_("The interruptions report is for the hall's managers."),
        )
        report = interruptions_report(hall=hall, date=date_param(request, hall))
        return Response(InterruptionsReportOutput(report).data)
