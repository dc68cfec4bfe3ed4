"""The display snapshot over HTTP: what a display polls while its socket is down."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from display.selectors import hall_snapshot
from hall.access import SEE_HALL, admit_to_hall
from queueing.api import EstimatedWaitOutput, WaitShownOutput


class DisplayTicketOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    business_type = serializers.CharField()
    lane = serializers.CharField()
    status = serializers.CharField()
    issued_at = serializers.DateTimeField()
    recall_count = serializers.IntegerField(help_text="Times the customer was called again.")


class PauseOutput(serializers.Serializer):
    reason = serializers.CharField()
    apology_zh = serializers.CharField()
    apology_en = serializers.CharField()
    since = serializers.DateTimeField()


class DisplayCounterOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    state = serializers.CharField()
    since = serializers.DateTimeField()
    seq = serializers.IntegerField(help_text="Hall seq of the last event concerning this counter.")
    current = DisplayTicketOutput(allow_null=True, help_text="The called or serving ticket.")
    greeted = DisplayTicketOutput(allow_null=True, help_text="请准备: next at this counter.")
    attended = DisplayTicketOutput(allow_null=True)
    pause = PauseOutput(allow_null=True, help_text="The apology shown while paused.")


class BoardOutput(EstimatedWaitOutput):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    prefix = serializers.CharField()
    waiting = serializers.IntegerField()
    wait = WaitShownOutput(help_text="How screens word the wait (queueing.wait_words).")
    counters_open = serializers.IntegerField(
        help_text="Open counters serving it (issue 16): 0 means no counter open for this service."
    )


class CallOutput(serializers.Serializer):
    seq = serializers.IntegerField(allow_null=True)
    number = serializers.CharField()
    counter = serializers.IntegerField()
    recall = serializers.BooleanField()
    call_count = serializers.IntegerField(
        help_text="Which call this is (issue 16): 1 for the call, 2 for the first recall, ..."
    )
    at = serializers.DateTimeField()


class HallPublicOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    timezone = serializers.CharField()
    announce_english = serializers.BooleanField()
    window_depth = serializers.IntegerField()


class DisplayIncidentOutput(serializers.Serializer):
    """An open system fault as customers see it (``hall.selectors.incident_public``)."""

    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="billing, network, printer, id_reader, power, other.")
    kind_label = serializers.CharField(help_text="The kind in the request's language.")
    severity = serializers.CharField(help_text="low, medium, high, critical.")
    mode = serializers.CharField(
        help_text='"unavailable": the affected types cannot be queued for; "warn": they can, '
        "with a warning."
    )
    business_types = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="Codes of the affected business types; null: every business type.",
    )
    apology_zh = serializers.CharField()
    apology_en = serializers.CharField()
    opened_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)


class SnapshotOutput(serializers.Serializer):
    type = serializers.CharField(help_text='Always "snapshot".')
    seq = serializers.IntegerField(help_text="The hall's last event seq this snapshot includes.")
    now = serializers.DateTimeField()
    hall = HallPublicOutput()
    business_types = BoardOutput(many=True)
    counters = DisplayCounterOutput(many=True)
    recent_calls = CallOutput(many=True, help_text="Newest first, today only.")
    incidents = DisplayIncidentOutput(
        many=True, help_text="Open system faults, oldest first: the apology banner while any."
    )


class HallSnapshotApi(APIView):
    @extend_schema(
        responses=SnapshotOutput,
        summary="Everything a display shows, with the seq it is current to",
        description=(
            "The same snapshot the display WebSocket streams start with. A display polls it "
            "every 5 s while its socket is down. No phone numbers or names."
        ),
    )
    def get(self, request, hall: str):
        hall, _admitted = admit_to_hall(who=request.user, code=hall, action=SEE_HALL)
        return Response(SnapshotOutput(hall_snapshot(hall=hall)).data)
