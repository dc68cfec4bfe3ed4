"""Thin API views for tickets: issue, read (staff), the customer's own view, cancel, transfer."""

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from hall.access import HANDLE_TICKET, ISSUE_TICKET, SEE_HALL, admit, admit_to_hall
from hall.api import IsStaff
from hall.auth import DeviceUser
from hall.errors import NotFound
from hall.idempotency import IDEMPOTENCY_HEADER, idempotent
from queueing.models import Lane, PriorityReason, Ticket
from queueing.selectors import business_type_queues, ticket_position
from queueing.services import ticket_cancel, ticket_issue, ticket_transfer
from queueing.wait_words import WaitKind, with_wait


class CounterRef(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()


class TicketOutput(serializers.Serializer):
    """A ticket as staff see it. The phone is masked to its last four digits."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    business_type = serializers.CharField(source="business_type.code")
    lane = serializers.CharField()
    priority_reason = serializers.CharField()
    status = serializers.CharField()
    issued_at = serializers.DateTimeField()
    called_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    counter = CounterRef(allow_null=True)
    window_slot = serializers.CharField(allow_null=True)
    recall_count = serializers.IntegerField()
    transfer_count = serializers.IntegerField()
    origin = serializers.CharField()
    phone = serializers.CharField(source="masked_phone")


def status_url(request, ticket: Ticket) -> str:
    """The customer's status page (the QR code on the ticket); its JSON is /api/v1/t/<token>/."""
    return request.build_absolute_uri(reverse("ticket-status", args=[ticket.public_token]))


def _band(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(),
        min_length=2,
        max_length=2,
        allow_null=True,
        help_text=help_text,
    )


class WaitShownOutput(serializers.Serializer):
    """How screens word the wait (``queueing.wait_words``)."""

    kind = serializers.ChoiceField(choices=WaitKind.choices)
    low = serializers.IntegerField(allow_null=True, help_text="Minutes (a range's low end).")
    high = serializers.IntegerField(allow_null=True, help_text="Minutes (the figure, or the end).")


class EstimatedWaitOutput(serializers.Serializer):
    """The estimated wait (issue 16: one honest wait message everywhere). Where one number would
    mislead (waits of one or two services) customers are shown ``estimated_wait_range_s``."""

    estimated_wait_s = serializers.IntegerField(
        allow_null=True,
        help_text="Seconds until called: the median of the forecast; null when no open or "
        "paused counter serves it.",
    )
    estimated_wait_range_s = _band(
        "[low, high] seconds: the 25th-75th percentile band of the wait, the range shown to "
        "customers (holds half of the actual waits); null with the estimate."
    )
    estimated_wait_range_10_90_s = _band(
        "[low, high] seconds: the 10th-90th percentile band (holds 80 % of the actual waits); "
        "null with the estimate."
    )
    wait = WaitShownOutput(
        source="wait_shown",
        help_text="The words (issue 16): no counter open, unknown, no wait, within {high} min, "
        "about {low}-{high} min, or about {high} min.",
    )


class TicketIssueApi(APIView):
    class TicketIssueInput(serializers.Serializer):
        business_type = serializers.SlugField(max_length=32)
        lane = serializers.ChoiceField(choices=Lane.choices, required=False)
        priority_reason = serializers.ChoiceField(
            choices=PriorityReason.choices, required=False, allow_blank=True
        )
        phone = serializers.RegexField(
            r"^\+?[0-9]{5,20}$", required=False, allow_blank=True, max_length=21
        )
        vip_account = serializers.CharField(max_length=40, required=False, allow_blank=True)
        override_hours = serializers.BooleanField(required=False, default=False)

    class TicketIssueOutput(EstimatedWaitOutput):
        id = serializers.IntegerField(source="ticket.id")
        number = serializers.CharField(source="ticket.number")
        business_type = serializers.CharField(source="ticket.business_type.code")
        business_type_name = serializers.SerializerMethodField()
        needs_id = serializers.BooleanField(source="ticket.business_type.needs_id")
        lane = serializers.CharField(source="ticket.lane")
        priority_reason = serializers.CharField(source="ticket.priority_reason")
        status = serializers.CharField(source="ticket.status")
        issued_at = serializers.DateTimeField(source="ticket.issued_at")
        people_ahead = serializers.IntegerField()
        status_url = serializers.SerializerMethodField()

        def get_business_type_name(self, issued) -> dict:
            bt = issued.ticket.business_type
            return {"zh": bt.name_zh, "en": bt.name_en}

        def get_status_url(self, issued) -> str:
            return status_url(self.context["request"], issued.ticket)

    @extend_schema(
        request=TicketIssueInput,
        responses={201: TicketIssueOutput},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Issue a ticket (kiosk device or staff)",
    )
    @idempotent
    def post(self, request, hall: str):
        hall, _admitted = admit_to_hall(who=request.user, code=hall, action=ISSUE_TICKET)
        data = self.TicketIssueInput(data=request.data)
        data.is_valid(raise_exception=True)
        is_device = isinstance(request.user, DeviceUser)
        issued = ticket_issue(
            hall=hall,
            business_type_code=data.validated_data["business_type"],
            lane=data.validated_data.get("lane"),
            priority_reason=data.validated_data.get("priority_reason", ""),
            phone=data.validated_data.get("phone", ""),
            vip_account=data.validated_data.get("vip_account", ""),
            override_hours=data.validated_data["override_hours"],
            device=request.user.device if is_device else None,
            issued_by=None if is_device else request.user,
        )
        output = self.TicketIssueOutput(issued, context={"request": request})
        return Response(output.data, status=status.HTTP_201_CREATED)


def staff_ticket(request, ticket_id: int) -> Ticket:
    ticket = (
        Ticket.objects.select_related("business_type", "counter", "hall")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise NotFound(_("No such ticket."))
    admit(who=request.user, hall=ticket.hall, action=HANDLE_TICKET)
    return ticket


class TicketDetailApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=TicketOutput, summary="One ticket (staff of its hall)")
    def get(self, request, ticket_id: int):
        return Response(TicketOutput(staff_ticket(request, ticket_id)).data)


class TicketCancelApi(APIView):
    permission_classes = [IsStaff]

    class TicketCancelInput(serializers.Serializer):
        reason = serializers.CharField(max_length=200, required=False, allow_blank=True)

    @extend_schema(
        request=TicketCancelInput,
        responses=TicketOutput,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Cancel a waiting ticket (greeter, manager)",
    )
    @idempotent
    def post(self, request, ticket_id: int):
        ticket = staff_ticket(request, ticket_id)  # admitted before the input is read
        data = self.TicketCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = ticket_cancel(
            ticket=ticket,
            actor=request.user,
            reason=data.validated_data.get("reason", ""),
        )
        return Response(TicketOutput(ticket).data)


class TicketTransferApi(APIView):
    permission_classes = [IsStaff]

    class TicketTransferInput(serializers.Serializer):
        business_type = serializers.SlugField(max_length=32)
        reason = serializers.CharField(max_length=200, required=False, allow_blank=True)

    @extend_schema(
        request=TicketTransferInput,
        responses=TicketOutput,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Move a waiting ticket to another business type, keeping its place (staff)",
        description=(
            "The ticket keeps its number and its original issue time; a greeted or attended "
            "window slot goes back to the pool and a pin to a counter is cleared. Refused "
            "(400 transfer_refused) for an unknown or inactive type, the ticket's own type, or "
            "a type no counter of the hall can serve; 409 invalid_transition unless waiting."
        ),
    )
    @idempotent
    def post(self, request, ticket_id: int):
        ticket = staff_ticket(request, ticket_id)  # admitted before the input is read
        data = self.TicketTransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = ticket_transfer(
            ticket=ticket,
            business_type_code=data.validated_data["business_type"],
            actor=request.user,
            reason=data.validated_data.get("reason", ""),
        )
        return Response(TicketOutput(ticket).data)


class PublicTicketApi(APIView):
    """The customer's own ticket, from the QR code: no personal data at all."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    class PublicTicketOutput(EstimatedWaitOutput):
        number = serializers.CharField()
        business_type = serializers.CharField(source="business_type.code")
        business_type_name = serializers.SerializerMethodField()
        lane = serializers.CharField()
        status = serializers.CharField()
        issued_at = serializers.DateTimeField()
        people_ahead = serializers.IntegerField()
        counter = CounterRef(allow_null=True)
        hall = serializers.SerializerMethodField()

        def get_business_type_name(self, ticket) -> dict:
            return {"zh": ticket.business_type.name_zh, "en": ticket.business_type.name_en}

        def get_hall(self, ticket) -> dict:
            return {"code": ticket.hall.code, "name": ticket.hall.name}

    @extend_schema(
        responses=PublicTicketOutput, summary="A customer's own ticket: position and estimate"
    )
    def get(self, request, token: str):
        ticket = (
            Ticket.objects.select_related("business_type", "counter", "hall")
            .filter(public_token=token)
            .first()
        )
        if ticket is None:
            raise NotFound(_("No such ticket."))
        ticket.people_ahead, wait = ticket_position(ticket=ticket)
        with_wait(ticket, wait)
        if ticket.status not in ("called", "serving"):
            ticket.counter = None
        return Response(self.PublicTicketOutput(ticket).data)


class BusinessTypeListApi(APIView):
    class BusinessTypeListOutput(EstimatedWaitOutput):
        code = serializers.CharField()
        name_zh = serializers.CharField()
        name_en = serializers.CharField()
        prefix = serializers.CharField()
        needs_id = serializers.BooleanField()
        expected_service_minutes = serializers.IntegerField()
        waiting = serializers.IntegerField()
        counters_open = serializers.IntegerField(
            help_text="Open counters serving it (issue 16): 0 means no counter open for it."
        )

    @extend_schema(
        responses=BusinessTypeListOutput(many=True),
        summary="Active business types with queue lengths",
    )
    def get(self, request, hall: str):
        hall, _admitted = admit_to_hall(who=request.user, code=hall, action=SEE_HALL)
        rows = business_type_queues(hall=hall)
        return Response(self.BusinessTypeListOutput(rows, many=True).data)
