"""Thin API views of appointments (issue 18). Booking is public (a customer's phone, verified by
a one-time code); check-in is for the hall's kiosks and staff, as issuing a ticket is."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from hall.access import BOOK, ISSUE_TICKET, admit_to_hall
from hall.auth import DeviceUser
from hall.errors import InvalidInput
from hall.idempotency import IDEMPOTENCY_HEADER, idempotent
from queueing.api import TicketIssueApi
from queueing.appointments.models import BookingSettings
from queueing.appointments.selectors import bookable_businesses, free_slots
from queueing.appointments.services import (
    bookable_business,
    booking_cancel,
    booking_check_in,
    booking_create,
    phone_verification_request,
)
from queueing.qr import qr_svg


def _phone(**kwargs):
    return serializers.RegexField(r"^\+?[0-9]{5,20}$", max_length=21, **kwargs)


class PublicApi(APIView):
    """Anyone may call it: no credentials read, so no CSRF either."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]


class BookableListApi(PublicApi):
    class BookableOutput(serializers.Serializer):
        business_type = serializers.CharField(source="business_type.code")
        name = serializers.SerializerMethodField()
        slot_minutes = serializers.IntegerField()
        quota_per_slot = serializers.IntegerField()

        def get_name(self, bookable) -> dict:
            bt = bookable.business_type
            return {"zh": bt.name_zh, "en": bt.name_en}

    class BookableListOutput(serializers.Serializer):
        days_ahead = serializers.IntegerField()
        cancel_deadline_minutes = serializers.IntegerField()
        check_in_early_minutes = serializers.IntegerField()
        check_in_late_minutes = serializers.IntegerField()
        businesses = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        responses={200: BookableListOutput},
        summary="Bookable businesses and the hall's booking rules (public)",
    )
    def get(self, request, hall: str):
        hall, _admitted = admit_to_hall(who=None, code=hall, action=BOOK)
        settings = BookingSettings.for_hall(hall)
        return Response(
            {
                "days_ahead": settings.days_ahead,
                "cancel_deadline_minutes": settings.cancel_deadline_minutes,
                "check_in_early_minutes": settings.check_in_early_minutes,
                "check_in_late_minutes": settings.check_in_late_minutes,
                "businesses": self.BookableOutput(bookable_businesses(hall=hall), many=True).data,
            }
        )


class SlotListApi(PublicApi):
    class SlotOutput(serializers.Serializer):
        starts_at = serializers.DateTimeField()
        ends_at = serializers.DateTimeField()
        free = serializers.IntegerField()

    @extend_schema(
        parameters=[
            OpenApiParameter("date", datetime.date, description="The hall's local date; today"),
        ],
        responses={200: SlotOutput(many=True)},
        summary="A bookable business's slots of one day with the places left (public)",
    )
    def get(self, request, hall: str, code: str):
        hall, _admitted = admit_to_hall(who=None, code=hall, action=BOOK)
        raw = request.query_params.get("date")
        try:
            date = datetime.date.fromisoformat(raw) if raw else hall.service_date()
        except ValueError:
            raise InvalidInput(
                _("Give the date as YYYY-MM-DD."), fields={"date": "invalid"}
            ) from None
        bookable = bookable_business(hall=hall, business_type_code=code)
        slots = free_slots(hall=hall, bookable=bookable, date=date)
        return Response(self.SlotOutput(slots, many=True).data)


class PhoneCodeApi(PublicApi):
    class PhoneCodeInput(serializers.Serializer):
        phone = _phone()

    class PhoneCodeOutput(serializers.Serializer):
        expires_at = serializers.DateTimeField()
        sent = serializers.CharField(
            help_text="pending (sent after commit), sent, or logged: no gateway configured"
        )

    @extend_schema(
        request=PhoneCodeInput,
        responses={202: PhoneCodeOutput},
        summary="Send a one-time code to a phone (public; one a minute, five an hour)",
    )
    def post(self, request, hall: str):
        hall, _admitted = admit_to_hall(who=None, code=hall, action=BOOK)
        data = self.PhoneCodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        verification = phone_verification_request(hall=hall, phone=data.validated_data["phone"])
        verification.refresh_from_db(fields=["send_status"])
        return Response(
            {"expires_at": verification.expires_at, "sent": verification.send_status},
            status=status.HTTP_202_ACCEPTED,
        )


class BookingOutput(serializers.Serializer):
    code = serializers.CharField()
    hall = serializers.CharField(source="hall.code")
    business_type = serializers.CharField(source="business_type.code")
    slot_start = serializers.DateTimeField()
    status = serializers.CharField()
    phone = serializers.CharField(source="masked_phone")
    qr_svg = serializers.SerializerMethodField(help_text="The booking code as an inline SVG QR")

    def get_qr_svg(self, booking) -> str:
        return str(qr_svg(booking.code, label=booking.code))


class BookingCreateApi(PublicApi):
    class BookingCreateInput(serializers.Serializer):
        business_type = serializers.SlugField(max_length=32)
        slot_start = serializers.DateTimeField()
        phone = _phone()
        verification_code = serializers.CharField(max_length=8)

    @extend_schema(
        request=BookingCreateInput,
        responses={201: BookingOutput},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Book a slot with a verified phone (public); returns the booking code",
    )
    @idempotent
    def post(self, request, hall: str):
        hall, _admitted = admit_to_hall(who=None, code=hall, action=BOOK)
        data = self.BookingCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        booking = booking_create(
            hall=hall,
            business_type_code=data.validated_data["business_type"],
            slot_start=data.validated_data["slot_start"],
            phone=data.validated_data["phone"],
            verification_code=data.validated_data["verification_code"],
        )
        return Response(BookingOutput(booking).data, status=status.HTTP_201_CREATED)


class BookingCancelApi(PublicApi):
    class BookingCancelInput(serializers.Serializer):
        phone = _phone()
        verification_code = serializers.CharField(max_length=8)

    @extend_schema(
        request=BookingCancelInput,
        responses={200: BookingOutput},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Cancel a booking before the hall's deadline (public, verified phone)",
    )
    @idempotent
    def post(self, request, booking_code: str):
        data = self.BookingCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        booking = booking_cancel(
            code=booking_code,
            phone=data.validated_data["phone"],
            verification_code=data.validated_data["verification_code"],
        )
        return Response(BookingOutput(booking).data)


class CheckInApi(APIView):
    class CheckInInput(serializers.Serializer):
        code = serializers.CharField(max_length=12, required=False, allow_blank=True)
        phone = _phone(required=False, allow_blank=True)
        verification_code = serializers.CharField(max_length=8, required=False, allow_blank=True)
        walk_in_if_early = serializers.BooleanField(required=False, default=False)

        def validate(self, attrs):
            if not attrs.get("code") and not (
                attrs.get("phone") and attrs.get("verification_code")
            ):
                raise serializers.ValidationError(
                    {"code": _("Give the booking code, or the phone and its code.")}
                )
            return attrs

    class CheckInOutput(TicketIssueApi.TicketIssueOutput):
        outcome = serializers.CharField(
            help_text="appointment (priority from the slot), late_walk_in or early_walk_in"
        )
        reason = serializers.CharField(help_text="Why it became a walk-in ticket; empty if not")
        booking = serializers.CharField(help_text="The booking code")
        slot_start = serializers.DateTimeField()

    @extend_schema(
        request=CheckInInput,
        responses={201: CheckInOutput},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Check a booking in (kiosk device or staff): it becomes a ticket. "
        "Too early: 409 check_in_too_early with come_back_at and walk_in_offered",
    )
    @idempotent
    def post(self, request, hall: str):
        hall, _admitted = admit_to_hall(who=request.user, code=hall, action=ISSUE_TICKET)
        data = self.CheckInInput(data=request.data)
        data.is_valid(raise_exception=True)
        is_device = isinstance(request.user, DeviceUser)
        booking, issued, outcome = booking_check_in(
            hall=hall,
            code=data.validated_data.get("code", ""),
            phone=data.validated_data.get("phone", ""),
            verification_code=data.validated_data.get("verification_code", ""),
            device=request.user.device if is_device else None,
            issued_by=None if is_device else request.user,
            walk_in_if_early=data.validated_data["walk_in_if_early"],
            now=timezone.now(),
        )
        issued.outcome, issued.reason = outcome, booking.reason
        issued.booking, issued.slot_start = booking.code, booking.slot_start
        output = self.CheckInOutput(issued, context={"request": request})
        return Response(output.data, status=status.HTTP_201_CREATED)
