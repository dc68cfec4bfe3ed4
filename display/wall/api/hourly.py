"""The wall's chart over HTTP: today's hall by hour against a typical day (display.wall.trends)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from display.wall.trends import hall_hourly
from hall.access import SEE_FIGURES, admit_to_hall
from hall.api import IsStaff


class HourlyFiguresOutput(serializers.Serializer):
    arrivals = serializers.FloatField(
        allow_null=True, help_text="Customers who took a ticket in the hour."
    )
    waiting = serializers.FloatField(
        allow_null=True,
        help_text="Customers waiting at the end of the hour (the current hour: now).",
    )
    served = serializers.FloatField(allow_null=True, help_text="Tickets finished in the hour.")
    service_level = serializers.FloatField(
        allow_null=True,
        help_text="Of the customers called in the hour, the share called within the hall's "
        "target wait (0..1); null when nobody was called.",
    )


class HourlyRowOutput(serializers.Serializer):
    hour = serializers.IntegerField(help_text="Local hour of the hall's clock, 0..23.")
    today = HourlyFiguresOutput(help_text="Null figures for the hours still to come.")
    typical = HourlyFiguresOutput(
        help_text="The mean of the same weekday over the previous four weeks (weeks the hall "
        "was shut left out); the service level pooled over those days. Null without history."
    )


class HallHourlyOutput(serializers.Serializer):
    hall = serializers.CharField()
    service_date = serializers.DateField()
    at = serializers.DateTimeField(help_text="When the figures were read.")
    timezone = serializers.CharField()
    current_hour = serializers.IntegerField()
    target_wait_s = serializers.IntegerField()
    service_level_target = serializers.FloatField(
        help_text="The share of customers to call within the target wait (0..1)."
    )
    typical_days = serializers.ListField(
        child=serializers.DateField(), help_text="The days the typical day is the mean of."
    )
    hours = HourlyRowOutput(many=True, help_text="The day's opening hours in clock order.")


class HallHourlyApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        responses=HallHourlyOutput,
        summary="Today's arrivals, waiting, served and service level by hour, and a typical day",
        description=(
            "The chart on the manager's wall, for the hall's staff (devices are refused). Per "
            "opening hour of the hall's local day: customers who arrived, customers waiting at "
            "the end of the hour (or now), tickets finished, and the service level of the calls "
            "made in the hour; against the mean of the same weekday over the previous four "
            "weeks. A ticket waits from its issue time (kept on transfer) to its last call."
        ),
    )
    def get(self, request, hall: str):
        hall, _admitted = admit_to_hall(who=request.user, code=hall, action=SEE_FIGURES)
        return Response(HallHourlyOutput(hall_hourly(hall=hall)).data)
