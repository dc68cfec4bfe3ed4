"""Thin API views for counters: the hall's list and each clerk action."""

from functools import partial

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from counters import services
from counters.models import PauseReason
from counters.selectors import counter_admission, counter_interruption, hall_counters
from hall.access import SEE_HALL, admit_to_hall
from hall.api import IsStaff, valid_input
from hall.idempotency import IDEMPOTENCY_HEADER, idempotent
from queueing.api import TicketOutput
from queueing.models import Outcome


class CounterOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    state = serializers.CharField()
    vip_mode = serializers.CharField()
    business_types = serializers.SerializerMethodField()
    clerk = serializers.CharField(source="clerk.username", allow_null=True, default=None)

    def get_business_types(self, counter) -> list[str]:
        return [bt.code for bt in counter.business_types.all()]


class InterruptionOutput(serializers.Serializer):
    reason = serializers.CharField()
    note = serializers.CharField()
    apology = serializers.SerializerMethodField()
    started_at = serializers.DateTimeField()

    def get_apology(self, interruption) -> dict:
        return {"zh": interruption.apology_zh, "en": interruption.apology_en}


class CounterListApi(APIView):
    @extend_schema(responses=CounterOutput(many=True), summary="The hall's counters")
    def get(self, request, hall: str):
        hall, _admitted = admit_to_hall(who=request.user, code=hall, action=SEE_HALL)
        return Response(CounterOutput(hall_counters(hall=hall), many=True).data)


class CounterStateOutput(serializers.Serializer):
    counter = CounterOutput()
    interruption = InterruptionOutput(allow_null=True)


def _counter_state(counter) -> dict:
    counter.refresh_from_db()
    return CounterStateOutput(
        {"counter": counter, "interruption": counter_interruption(counter=counter)}
    ).data


class _CounterAction(APIView):
    permission_classes = [IsStaff]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Parse the body even for actions that take none: a malformed body is refused (400)
        # rather than acted on, exactly as it already is when an Idempotency-Key is sent. A
        # caller who may not act at this counter hears that first (403/404), whatever the body.
        try:
            request.data  # noqa: B018
        except exceptions.ParseError:
            counter_admission(counter_id=kwargs["counter_id"], user=request.user)
            raise

    def valid(self, serializer, counter_id: int) -> dict:
        """The action's input, once the caller is admitted at the counter (hall.api.valid_input)."""
        admission = partial(counter_admission, counter_id=counter_id, user=self.request.user)
        return valid_input(serializer, admission=admission)


class CounterOpenApi(_CounterAction):
    @extend_schema(
        request=None,
        responses=CounterStateOutput,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Sign in at the counter and open it",
    )
    @idempotent
    def post(self, request, counter_id: int):
        counter = services.counter_open(counter_id=counter_id, user=request.user)
        return Response(_counter_state(counter))


class CounterCloseApi(_CounterAction):
    @extend_schema(
        request=None,
        responses=CounterStateOutput,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Sign out and close the counter",
    )
    @idempotent
    def post(self, request, counter_id: int):
        counter = services.counter_close(counter_id=counter_id, user=request.user)
        return Response(_counter_state(counter))


class WindowOutput(serializers.Serializer):
    called = TicketOutput(allow_null=True)
    greeted = TicketOutput(allow_null=True)
    attended = TicketOutput(allow_null=True)


class CounterCallNextApi(_CounterAction):
    @extend_schema(
        request=None,
        responses=WindowOutput,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Call the next ticket; returns the called, greeted and attended tickets",
    )
    @idempotent
    def post(self, request, counter_id: int):
        window = services.counter_call_next(counter_id=counter_id, user=request.user)
        return Response(WindowOutput(window).data)


class RecallOutput(serializers.Serializer):
    ticket = TicketOutput()
    recall_count = serializers.IntegerField(source="ticket.recall_count")
    recall_limit = serializers.IntegerField()
    suggested_action = serializers.CharField(allow_null=True)


class CounterRecallApi(_CounterAction):
    @extend_schema(
        request=None,
        responses=RecallOutput,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Call the current ticket again; suggests a no-show past the recall limit",
    )
    @idempotent
    def post(self, request, counter_id: int):
        recall = services.counter_recall(counter_id=counter_id, user=request.user)
        return Response(RecallOutput(recall).data)


TicketEnvelope = inline_serializer("TicketEnvelope", {"ticket": TicketOutput()})


class CounterStartApi(_CounterAction):
    @extend_schema(
        request=None,
        responses=TicketEnvelope,
        parameters=[IDEMPOTENCY_HEADER],
        summary="The customer has arrived: start service",
    )
    @idempotent
    def post(self, request, counter_id: int):
        ticket = services.counter_start(counter_id=counter_id, user=request.user)
        return Response({"ticket": TicketOutput(ticket).data})


class CounterFinishApi(_CounterAction):
    class CounterFinishInput(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=Outcome.choices, default=Outcome.COMPLETED)
        note = serializers.CharField(max_length=500, required=False, allow_blank=True)

    @extend_schema(
        request=CounterFinishInput,
        responses=TicketEnvelope,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Finish service with an outcome",
    )
    @idempotent
    def post(self, request, counter_id: int):
        data = self.valid(self.CounterFinishInput(data=request.data), counter_id)
        ticket = services.counter_finish(
            counter_id=counter_id,
            user=request.user,
            outcome=data["outcome"],
            note=data.get("note", ""),
        )
        return Response({"ticket": TicketOutput(ticket).data})


class CounterNoShowApi(_CounterAction):
    @extend_schema(
        request=None,
        responses=TicketEnvelope,
        parameters=[IDEMPOTENCY_HEADER],
        summary="The called customer did not come",
    )
    @idempotent
    def post(self, request, counter_id: int):
        ticket = services.counter_no_show(counter_id=counter_id, user=request.user)
        return Response({"ticket": TicketOutput(ticket).data})


class CounterRequeueApi(_CounterAction):
    @extend_schema(
        request=None,
        responses=TicketEnvelope,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Send the called or serving customer back to the front of the queue",
        description=(
            "The ticket is waiting again with its original issue time, so the next counter that "
            "may serve it calls it first; the lobby and the customer's status page say so. "
            "The way out before a pause, which is refused while a customer is called or served."
        ),
    )
    @idempotent
    def post(self, request, counter_id: int):
        ticket = services.counter_requeue(counter_id=counter_id, user=request.user)
        return Response({"ticket": TicketOutput(ticket).data})


class CounterTransferApi(_CounterAction):
    class CounterTransferInput(serializers.Serializer):
        business_type = serializers.SlugField(max_length=32, required=False)
        counter = serializers.IntegerField(required=False, min_value=1)

        def validate(self, attrs):
            if not attrs.get("business_type") and attrs.get("counter") is None:
                raise serializers.ValidationError(
                    {"business_type": _("Give a business type or a counter.")}
                )
            return attrs

    @extend_schema(
        request=CounterTransferInput,
        responses=TicketEnvelope,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Transfer the ticket to a business type or a counter; it keeps its place",
    )
    @idempotent
    def post(self, request, counter_id: int):
        data = self.valid(self.CounterTransferInput(data=request.data), counter_id)
        ticket = services.counter_transfer(
            counter_id=counter_id,
            user=request.user,
            business_type_code=data.get("business_type"),
            target_counter_id=data.get("counter"),
        )
        return Response({"ticket": TicketOutput(ticket).data})


class CounterPauseApi(_CounterAction):
    class CounterPauseInput(serializers.Serializer):
        reason = serializers.ChoiceField(choices=PauseReason.choices)
        note = serializers.CharField(max_length=200, required=False, allow_blank=True)

    @extend_schema(
        request=CounterPauseInput,
        responses=CounterStateOutput,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Pause service with a reason; customers see the apology",
    )
    @idempotent
    def post(self, request, counter_id: int):
        data = self.valid(self.CounterPauseInput(data=request.data), counter_id)
        interruption = services.counter_pause(
            counter_id=counter_id,
            user=request.user,
            reason=data["reason"],
            note=data.get("note", ""),
        )
        return Response(_counter_state(interruption.counter))


class CounterResumeApi(_CounterAction):
    @extend_schema(
        request=None,
        responses=CounterStateOutput,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Resume service after a pause",
    )
    @idempotent
    def post(self, request, counter_id: int):
        counter = services.counter_resume(counter_id=counter_id, user=request.user)
        return Response(_counter_state(counter))
