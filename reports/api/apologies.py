"""Thin API view for the apology log: every apology shown to customers on one day."""

import datetime

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from hall.access import SEE_FIGURES, admit_to_hall
from hall.api import IsStaff
from hall.errors import InvalidInput
from hall.models import ApologyPlace, ApologySource, Hall
from reports.apologies import apology_log

DATE_PARAMETER = OpenApiParameter(
    "date",
    datetime.date,
    OpenApiParameter.QUERY,
    required=False,
    description="YYYY-MM-DD, the hall's local date; default: today.",
)


def date_param(request, hall: Hall) -> datetime.date:
    """``?date=YYYY-MM-DD`` (the hall's local date), default today; else a 400."""
    raw = request.query_params.get("date")
    if not raw:
        return hall.service_date()
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            _("Give the date as YYYY-MM-DD."), fields={"date": _("Not a date: YYYY-MM-DD.")}
        ) from None


class ApologyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.ChoiceField(choices=ApologySource.choices, help_text="Why.")
    source_label = serializers.CharField(source="get_source_display")
    place = serializers.ChoiceField(choices=ApologyPlace.choices, help_text="Where it was shown.")
    place_label = serializers.CharField(source="get_place_display")
    counter = serializers.IntegerField(
        source="counter_number", allow_null=True, help_text="The counter's number."
    )
    incident = serializers.IntegerField(source="incident_id", allow_null=True)
    interruption = serializers.IntegerField(source="interruption_id", allow_null=True)
    ticket = serializers.CharField(
        source="ticket_number", allow_null=True, help_text="The ticket being served, if any."
    )
    text_zh = serializers.CharField()
    text_en = serializers.CharField()
    shown_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True, help_text="null: still shown.")
    duration_s = serializers.IntegerField(help_text="Shown for so long (so far, if still shown).")


class ApologyLogOutput(serializers.Serializer):
    date = serializers.DateField()
    apologies = ApologyOutput(many=True)


class ApologyLogApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        parameters=[DATE_PARAMETER],
        responses=ApologyLogOutput,
        summary="The apology log: every apology on show on a day, what, where, when and the "
        "words (staff of the hall)",
    )
    def get(self, request, hall: str):
        hall, _admitted = admit_to_hall(who=request.user, code=hall, action=SEE_FIGURES)
        date = date_param(request, hall)
        return Response(
            ApologyLogOutput({"date": date, "apologies": apology_log(hall=hall, date=date)}).data
        )
