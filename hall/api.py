"""Thin API views for halls: token login and the business-type list."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.views import APIView

from hall.auth import DeviceUser
from hall.errors import Forbidden, InvalidInput, NotFound
from hall.models import Hall
from hall.selectors import staff_role
from queueing.selectors import business_type_queues


class IsStaff(permissions.BasePermission):
    """A signed-in person (session or token), not a device."""

    message = gettext_lazy("Staff only: sign in with a staff account.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and not isinstance(user, DeviceUser))


def hall_for(request, code: str, *, device_kinds=("kiosk", "display")) -> Hall:
    """The hall named in the URL, if the caller belongs to it (a device of it or its staff).

    A device's own hall comes with its (cached) authentication: no query."""
    if isinstance(request.user, DeviceUser) and request.user.device.hall.code == code:
        device = request.user.device
        if device.kind not in device_kinds:
            raise Forbidden(_("This device belongs to another hall or may not do this."))
        return device.hall
    hall = Hall.objects.filter(code=code).first()
    if hall is None:
        raise NotFound(_("No hall with code %(code)s.") % {"code": code})
    if isinstance(request.user, DeviceUser):
        device = request.user.device
        if device.hall_id != hall.pk or device.kind not in device_kinds:
            raise Forbidden(_("This device belongs to another hall or may not do this."))
    elif staff_role(user=request.user, hall=hall) is None:
        raise Forbidden(_("You are not on this hall's staff."))
    return hall


class TokenLoginApi(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    class TokenLoginInput(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    @extend_schema(
        request=TokenLoginInput,
        responses=inline_serializer("TokenOutput", {"token": serializers.CharField()}),
        summary="Exchange a staff username and password for an API token",
    )
    def post(self, request):
        data = self.TokenLoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if user is None or not user.is_active:
            raise InvalidInput(_("Wrong username or password."), fields={"password": "wrong"})
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class BusinessTypeListApi(APIView):
    class BusinessTypeListOutput(serializers.Serializer):
        code = serializers.CharField()
        name_zh = serializers.CharField()
        name_en = serializers.CharField()
        prefix = serializers.CharField()
        needs_id = serializers.BooleanField()
        expected_service_minutes = serializers.IntegerField()
        waiting = serializers.IntegerField()
        estimated_wait_s = serializers.IntegerField(allow_null=True)
        counters_open = serializers.IntegerField(
            help_text="Open counters serving it (issue 16): 0 means no counter open for it."
        )

    @extend_schema(
        responses=BusinessTypeListOutput(many=True),
        summary="Active business types with queue lengths",
    )
    def get(self, request, hall: str):
        hall = hall_for(request, hall)
        rows = business_type_queues(hall=hall)
        return Response(self.BusinessTypeListOutput(rows, many=True).data)
