"""Thin API views for complaints (首问负责制): register, list, reply."""

from functools import partial

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from hall.access import HANDLE_COMPLAINT, admit_to_hall
from hall.api import IsStaff, valid_input
from hall.errors import InvalidInput
from hall.idempotency import IDEMPOTENCY_HEADER, idempotent
from hall.models import Role
from queueing.models import Ticket
from recovery.complaints import (
    DESCRIPTION_MAX,
    MAX_CALLBACK_MINUTES,
    REPLY_MAX,
    complaint_register,
    complaint_reply,
)
from recovery.models import Complaint, ComplaintCategory, ComplaintStatus
from recovery.selectors import complaint_admission, complaints_for


class ComplaintTicketOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class ComplaintOutput(serializers.Serializer):
    id = serializers.IntegerField()
    hall = serializers.CharField(source="hall.code")
    status = serializers.ChoiceField(choices=ComplaintStatus.choices)
    category = serializers.ChoiceField(choices=ComplaintCategory.choices)
    category_label = serializers.CharField(source="get_category_display")
    description = serializers.CharField()
    customer_name = serializers.CharField()
    customer_phone = serializers.CharField()
    ticket = ComplaintTicketOutput(allow_null=True)
    owner = serializers.CharField(source="owner.username", help_text="The first receiver.")
    received_at = serializers.DateTimeField()
    callback_due_at = serializers.DateTimeField(help_text="The callback promised by then.")
    seconds_to_deadline = serializers.SerializerMethodField(
        help_text="While open: seconds left to the promised callback, negative when overdue."
    )
    reply = serializers.CharField()
    replied_at = serializers.DateTimeField(allow_null=True)
    replied_by = serializers.CharField(source="replied_by.username", allow_null=True, default=None)
    replied_on_time = serializers.BooleanField(allow_null=True)
    reminded_at = serializers.DateTimeField(allow_null=True)
    escalated_at = serializers.DateTimeField(allow_null=True)

    def get_seconds_to_deadline(self, complaint) -> int | None:
        if complaint.status != ComplaintStatus.OPEN:
            return None
        now = self.context.get("now") or timezone.now()
        return round((complaint.callback_due_at - now).total_seconds())


def complaint_output(complaint: Complaint, **context) -> dict:
    return ComplaintOutput(complaint, context=context).data


STATUS_PARAMETER = OpenApiParameter(
    "status",
    str,
    OpenApiParameter.QUERY,
    required=False,
    enum=ComplaintStatus.values,
    description="Only complaints in this status (open: soonest deadline first).",
)
MINE_PARAMETER = OpenApiParameter(
    "mine",
    bool,
    OpenApiParameter.QUERY,
    required=False,
    description="1: only those I own (a clerk always sees only their own).",
)


class ComplaintListApi(APIView):
    permission_classes = [IsStaff]

    class ComplaintRegisterInput(serializers.Serializer):
        category = serializers.ChoiceField(choices=ComplaintCategory.choices)
        description = serializers.CharField(max_length=DESCRIPTION_MAX)
        ticket = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            help_text="Id of the ticket being served when the customer complained.",
        )
        customer_name = serializers.CharField(
            max_length=50, required=False, allow_blank=True, default=""
        )
        customer_phone = serializers.CharField(
            max_length=20, required=False, allow_blank=True, default=""
        )
        callback_minutes = serializers.IntegerField(
            min_value=1,
            max_value=MAX_CALLBACK_MINUTES,
            required=False,
            allow_null=True,
            default=None,
            help_text="The callback promised within this many minutes; default: the hall's "
            "setting (120).",
        )

    @extend_schema(
        parameters=[STATUS_PARAMETER, MINE_PARAMETER],
        responses=ComplaintOutput(many=True),
        summary="The hall's complaints (a manager: all; a clerk: their own)",
    )
    def get(self, request, hall: str):
        hall, role = admit_to_hall(who=request.user, code=hall, action=HANDLE_COMPLAINT)
        wanted = request.query_params.get("status")
        if wanted is not None and wanted not in ComplaintStatus.values:
            raise InvalidInput(
                fields={
                    "status": _("One of: %(choices)s")
                    % {"choices": ", ".join(ComplaintStatus.values)}
                }
            )
        mine = request.query_params.get("mine", "").lower() in ("1", "true", "yes")
        owner = request.user if mine or role != Role.MANAGER else None
        complaints = complaints_for(hall=hall, status=wanted, owner=owner)[:500]
        now = timezone.now()
        return Response([complaint_output(c, now=now) for c in complaints])

    @extend_schema(
        request=ComplaintRegisterInput,
        responses={201: ComplaintOutput},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Register a complaint; the caller owns it (首问负责制; clerk or manager)",
    )
    @idempotent
    def post(self, request, hall: str):
        hall, _admitted = admit_to_hall(who=request.user, code=hall, action=HANDLE_COMPLAINT)
        data = self.ComplaintRegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ticket = None
        if values["ticket"] is not None:
            ticket = Ticket.objects.filter(pk=values["ticket"], hall=hall).first()
            if ticket is None:
                raise InvalidInput(fields={"ticket": _("Not a ticket of this hall.")})
        complaint = complaint_register(
            hall=hall,
            owner=request.user,
            category=values["category"],
            description=values["description"],
            ticket=ticket,
            customer_name=values["customer_name"],
            customer_phone=values["customer_phone"],
            callback_minutes=values["callback_minutes"],
        )
        return Response(complaint_output(complaint), status=status.HTTP_201_CREATED)


class ComplaintReplyApi(APIView):
    permission_classes = [IsStaff]

    class ComplaintReplyInput(serializers.Serializer):
        reply = serializers.CharField(max_length=REPLY_MAX, help_text="What the customer was told.")

    @extend_schema(
        request=ComplaintReplyInput,
        responses=ComplaintOutput,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Reply to a complaint (its owner or a manager); a second reply is refused "
        "(409 complaint_already_replied)",
    )
    @idempotent
    def post(self, request, complaint_id: int):
        admission = partial(complaint_admission, complaint_id=complaint_id, user=request.user)
        data = valid_input(self.ComplaintReplyInput(data=request.data), admission=admission)
        complaint = complaint_reply(
            complaint_id=complaint_id, user=request.user, reply=data["reply"]
        )
        complaint = Complaint.objects.select_related("hall", "owner", "replied_by", "ticket").get(
            pk=complaint.pk
        )
        return Response(complaint_output(complaint))
