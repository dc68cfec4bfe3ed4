"""GET /api/v1/halls/{hall}/metrics/: the wall's live KPIs (``display.wall.metrics.hall_metrics``).

The same figures the wall stream pushes as ``{"type": "metrics"}`` frames; staff of the hall
only (any role: the wall hangs in the hall for everybody on the floor), never devices.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from display.wall.metrics import hall_metrics
from hall.api import IsStaff, hall_for


class LaneCountsOutput(serializers.Serializer):
    vip = serializers.IntegerField()
    priority = serializers.IntegerField()
    normal = serializers.IntegerField()


class FirstWaitingOutput(serializers.Serializer):
    number = serializers.CharField()
    lane = serializers.CharField()
    priority_reason = serializers.CharField(help_text='"" for none.')
    reason_zh = serializers.CharField()
    reason_en = serializers.CharField()
    wait_s = serializers.IntegerField()


class BusinessTypeWaitingOutput(serializers.Serializer):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    prefix = serializers.CharField()
    waiting = serializers.IntegerField()
    by_lane = LaneCountsOutput()
    longest_wait_s = serializers.IntegerField(allow_null=True)
    mean_wait_s = serializers.IntegerField(allow_null=True)
    estimated_wait_s = serializers.IntegerField(
        allow_null=True, help_text="For a normal ticket issued now; null: no counter can serve."
    )
    over_target = serializers.BooleanField(help_text="The longest wait is past the target.")
    unavailable = serializers.BooleanField(
        help_text="No counter serves it, or an open incident stops it at the kiosk."
    )
    counters_open = serializers.IntegerField(
        help_text="Open counters (not paused, not closed) that serve it; 0 with people "
        "waiting raises the no_counter_open alert."
    )
    first_waiting = FirstWaitingOutput(
        many=True,
        help_text="Only when no open counter serves it: up to 6 of its waiting customers, "
        "VIP and priority (elderly, disabled, ...) first, then by issue time.",
    )


class WaitingOutput(serializers.Serializer):
    total = serializers.IntegerField()
    longest_wait_s = serializers.IntegerField(allow_null=True)
    mean_wait_s = serializers.IntegerField(allow_null=True)
    by_lane = LaneCountsOutput()
    by_business_type = BusinessTypeWaitingOutput(many=True)


class PauseMetricsOutput(serializers.Serializer):
    reason = serializers.CharField()
    reason_label = serializers.CharField(help_text="In the request's language.")
    reason_label_zh = serializers.CharField()
    reason_label_en = serializers.CharField()
    since = serializers.DateTimeField()
    seconds = serializers.IntegerField()


class CounterMetricsOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    name = serializers.CharField()
    state = serializers.ChoiceField(choices=["serving", "idle", "paused", "closed"])
    clerk = serializers.CharField(allow_null=True, help_text="The signed-in clerk's name.")
    clerk_id = serializers.IntegerField(allow_null=True)
    ticket = serializers.CharField(allow_null=True, help_text="The called or serving ticket.")
    since = serializers.DateTimeField(allow_null=True, help_text="When this state began.")
    pause = PauseMetricsOutput(allow_null=True)
    business_types = serializers.ListField(child=serializers.CharField())


class CountersOutput(serializers.Serializer):
    open = serializers.IntegerField(help_text="serving + idle")
    serving = serializers.IntegerField()
    paused = serializers.IntegerField()
    idle = serializers.IntegerField()
    closed = serializers.IntegerField()
    list = CounterMetricsOutput(many=True)


class ClerkMetricsOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    counter = serializers.IntegerField(allow_null=True)
    served = serializers.IntegerField()
    mean_service_s = serializers.IntegerField(allow_null=True)


class TodayOutput(serializers.Serializer):
    issued = serializers.IntegerField()
    served = serializers.IntegerField()
    no_shows = serializers.IntegerField()
    transfers = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    mean_wait_s = serializers.IntegerField(allow_null=True)
    p90_wait_s = serializers.IntegerField(allow_null=True)
    service_level = serializers.FloatField(allow_null=True)
    service_level_last_hour = serializers.FloatField(allow_null=True)


class SatisfactionOutput(serializers.Serializer):
    ratings = serializers.IntegerField()
    score = serializers.FloatField(allow_null=True, help_text="Mean of today's scores, 0-100.")
    target = serializers.IntegerField()
    very_satisfied = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    dissatisfied = serializers.IntegerField()


class ComplaintsOutput(serializers.Serializer):
    open = serializers.IntegerField()
    due_soon = serializers.IntegerField()
    overdue = serializers.IntegerField()
    reply_rate = serializers.FloatField(allow_null=True)
    on_time_rate = serializers.FloatField(allow_null=True)


class AlertOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    subject = serializers.CharField()
    message_zh = serializers.CharField()
    message_en = serializers.CharField()
    suggestion_zh = serializers.CharField()
    suggestion_en = serializers.CharField()
    raised_at = serializers.DateTimeField()


class MetricsOutput(serializers.Serializer):
    hall = serializers.CharField()
    at = serializers.DateTimeField()
    service_date = serializers.DateField()
    target_wait_s = serializers.IntegerField()
    waiting = WaitingOutput()
    counters = CountersOutput()
    clerks = ClerkMetricsOutput(many=True)
    today = TodayOutput()
    satisfaction = SatisfactionOutput()
    incidents = serializers.ListField(
        child=serializers.DictField(), help_text="Open incidents, as the incident API shows them."
    )
    complaints = ComplaintsOutput()
    alerts = AlertOutput(many=True)


class HallMetricsApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        responses=MetricsOutput,
        summary="The wall's live KPIs",
        description=(
            "Waiting per business type and lane, counters, clerks, today's figures (waits, "
            "service level), satisfaction, open incidents, complaints and alerts, correct to "
            "the second. The wall stream (WS /ws/halls/{hall}/wall/) pushes the same object as "
            '`{"type": "metrics", "seq", "at", "metrics"}`. Staff of the hall only.'
        ),
    )
    def get(self, request, hall: str):
        hall = hall_for(request, hall, device_kinds=())
        return Response(MetricsOutput(hall_metrics(hall=hall)).data)
