"""POST /api/v1/tickets/{id}/rating/: the customer's satisfaction rating of a finished ticket."""

from functools import partial

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from counters.models import Rating
from counters.satisfaction import RatingReason, rating_admission, rating_record
from hall.api import valid_input
from hall.auth import DeviceUser
from hall.idempotency import IDEMPOTENCY_HEADER, idempotent


class TicketRatingInput(serializers.Serializer):
    rating = serializers.ChoiceField(choices=Rating.choices)
    reason = serializers.ChoiceField(
        choices=[(code, str(label)) for code, label in RatingReason.labels().items()],
        required=False,
        allow_blank=True,
        help_text="Optional: one of the pad's preset reasons (no free text).",
    )


class TicketRatingOutput(serializers.Serializer):
    ticket = serializers.IntegerField(source="ticket_id")
    number = serializers.CharField(source="ticket.number")
    counter = serializers.IntegerField(source="counter.number")
    rating = serializers.CharField()
    score = serializers.IntegerField(help_text="very_satisfied 100, satisfied 80, dissatisfied 0")
    reason = serializers.CharField()
    service_date = serializers.DateField()
    rated_at = serializers.DateTimeField()


class TicketRatingApi(APIView):
    @extend_schema(
        request=TicketRatingInput,
        responses={201: TicketRatingOutput},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Record the customer's satisfaction rating of a finished ticket",
        description=(
            "By a rating pad device of the ticket's hall (`Authorization: Device <token>`) or a "
            "member of its staff (not the clerk who served the ticket). Once per ticket "
            "(409 `already_rated`), only for a finished ticket (409 `not_rateable`) and within "
            "10 minutes of finishing (409 `rating_window_closed`). Writes a `rating.recorded` "
            "event (ticket number, counter, rating, score)."
        ),
    )
    @idempotent
    def post(self, request, ticket_id: int):
        admission = partial(rating_admission, ticket_id=ticket_id, user=request.user)
        data = valid_input(TicketRatingInput(data=request.data), admission=admission)
        is_device = isinstance(request.user, DeviceUser)
        record = rating_record(
            ticket_id=ticket_id,
            rating=data["rating"],
            reason=data.get("reason", ""),
            device=request.user.device if is_device else None,
            user=None if is_device else request.user,
        )
        return Response(TicketRatingOutput(record).data, status=status.HTTP_201_CREATED)
