"""Thin API views for halls: token login; ``IsStaff``, the API's gate before ``hall.access``."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.views import APIView

from hall.auth import DeviceUser
from hall.errors import InvalidInput


class IsStaff(permissions.BasePermission):
    """A signed-in person (session or token), not a device."""

    message = gettext_lazy("Staff only: sign in with a staff account.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and not isinstance(user, DeviceUser))


def valid_input(serializer, *, admission) -> dict:
    """The ``serializer``'s validated data. Input that is not valid is refused only after
    ``admission()``: a caller who may not act here gets its 403, never the 400 that would tell
    them what is wrong with their input (``hall.access``: admission comes first).

    The service admits the caller itself before acting; running ``admission`` only for input
    that is not valid spares valid requests (every finish at a counter) its query."""
    if not serializer.is_valid():
        admission()
        raise serializers.ValidationError(serializer.errors)
    return serializer.validated_data


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
