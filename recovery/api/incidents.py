"""Thin API views for incidents (system faults): report, list, acknowledge, resolve."""

from functools import partial

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from hall.access import HANDLE_INCIDENT, SEE_INCIDENTS, Refused, admit_to_hall
from hall.api import IsStaff, valid_input
from hall.auth import DeviceUser
from hall.errors import InvalidInput
from hall.idempotency import IDEMPOTENCY_HEADER, idempotent
from hall.models import BusinessType, Incident, IncidentKind, IncidentMode, IncidentSeverity
from hall.selectors import incident_public
from recovery.escalation_delivery import LEVEL_NAMES, acknowledge_token_valid
from recovery.incidents import incident_acknowledge, incident_open, incident_resolve
from recovery.selectors import hall_incidents, incident_admission, incident_duration_s


class EscalationOutput(serializers.Serializer):
    round = serializers.IntegerField(help_text="Notification rounds sent so far.")
    level = serializers.ChoiceField(
        choices=["department", "manager", "regional"], help_text="Who has been told so far."
    )
    next_notify_at = serializers.DateTimeField(allow_null=True)


class IncidentDetailOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=IncidentKind.choices)
    kind_label = serializers.CharField()
    severity = serializers.ChoiceField(choices=IncidentSeverity.choices)
    mode = serializers.ChoiceField(choices=IncidentMode.choices)
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
    description = serializers.CharField()
    department = serializers.CharField(allow_null=True)
    reporter = serializers.CharField()
    acknowledged_by = serializers.CharField()
    resolved_by = serializers.CharField(allow_null=True)
    resolution = serializers.CharField()
    affected_customers = serializers.IntegerField(
        allow_null=True, help_text="Set on resolution: tickets waiting or served during it."
    )
    duration_s = serializers.IntegerField(allow_null=True, help_text="Set on resolution.")
    escalation = EscalationOutput()


def incident_output(incident: Incident) -> dict:
    return IncidentDetailOutput(
        {
            **incident_public(incident),
            "description": incident.description,
            "department": incident.department.name if incident.department_id else None,
            "reporter": incident.reporter.get_username(),
            "acknowledged_by": incident.acknowledged_by,
            "resolved_by": incident.resolved_by.get_username() if incident.resolved_by else None,
            "resolution": incident.resolution,
            "affected_customers": incident.affected_customers,
            "duration_s": incident_duration_s(incident),
            "escalation": {
                "round": incident.escalation_round,
                "level": LEVEL_NAMES[incident.escalation_level],
                "next_notify_at": incident.next_notify_at,
            },
        }
    ).data


def _fresh(incident: Incident) -> Incident:
    return (
        Incident.objects.select_related("department", "reporter", "resolved_by", "hall")
        .prefetch_related("business_types")
        .get(pk=incident.pk)
    )


OPEN_PARAMETER = OpenApiParameter(
    "open", bool, OpenApiParameter.QUERY, required=False, description="1: unresolved ones only."
)
TOKEN_PARAMETER = OpenApiParameter(
    "token",
    str,
    OpenApiParameter.QUERY,
    required=False,
    description="The signed token of the acknowledge link sent to the department (no login).",
)


class IncidentListApi(APIView):
    permission_classes = [IsStaff]

    class IncidentOpenInput(serializers.Serializer):
        kind = serializers.ChoiceField(choices=IncidentKind.choices)
        business_types = serializers.ListField(
            child=serializers.CharField(max_length=32),
            required=False,
            max_length=100,
            help_text="Codes of the affected business types; omitted or empty: all.",
        )
        severity = serializers.ChoiceField(
            choices=IncidentSeverity.choices, required=False, default=IncidentSeverity.HIGH
        )
        mode = serializers.ChoiceField(
            choices=IncidentMode.choices,
            required=False,
            default=IncidentMode.WARN,
            help_text="At the kiosk: `unavailable` refuses affected tickets, `warn` issues them "
            "with a warning.",
        )
        description = serializers.CharField(
            max_length=2000, required=False, allow_blank=True, default=""
        )

    @extend_schema(
        parameters=[OPEN_PARAMETER],
        responses=IncidentDetailOutput(many=True),
        summary="The hall's incidents, newest first (staff of the hall)",
    )
    def get(self, request, hall: str):
        hall, _admitted = admit_to_hall(who=request.user, code=hall, action=SEE_INCIDENTS)
        open_only = request.query_params.get("open", "").lower() in ("1", "true", "yes")
        return Response(
            [incident_output(i) for i in hall_incidents(hall=hall, open_only=open_only)]
        )

    @extend_schema(
        request=IncidentOpenInput,
        responses={201: IncidentDetailOutput},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Report a system fault: apologise everywhere, notify the department "
        "(clerk or manager)",
    )
    @idempotent
    def post(self, request, hall: str):
        hall, _admitted = admit_to_hall(who=request.user, code=hall, action=HANDLE_INCIDENT)
        data = self.IncidentOpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        codes = list(dict.fromkeys(data.validated_data.get("business_types") or []))
        business_types = list(BusinessType.objects.filter(hall=hall, code__in=codes))
        unknown = sorted(set(codes) - {bt.code for bt in business_types})
        if unknown:
            raise InvalidInput(
                _("Unknown business types: %(codes)s") % {"codes": ", ".join(unknown)},
                fields={"business_types": "unknown: " + ", ".join(unknown)},
            )
        incident = incident_open(
            hall=hall,
            kind=data.validated_data["kind"],
            reporter=request.user,
            business_types=business_types,
            severity=data.validated_data["severity"],
            mode=data.validated_data["mode"],
            description=data.validated_data["description"],
        )
        return Response(incident_output(_fresh(incident)), status=status.HTTP_201_CREATED)


class IncidentAcknowledgeApi(APIView):
    # Staff by session or token, or the department without a login through the signed link.
    permission_classes = [permissions.AllowAny]

    class IncidentAcknowledgeInput(serializers.Serializer):
        by = serializers.CharField(
            max_length=150,
            required=False,
            allow_blank=True,
            help_text="Who acknowledges; default: the signed-in person, or the department.",
        )

    @extend_schema(
        request=IncidentAcknowledgeInput,
        responses=IncidentDetailOutput,
        parameters=[TOKEN_PARAMETER],
        summary="Acknowledge an incident: no more reminders (staff, or the department's link); "
        "acknowledging again changes nothing",
    )
    def post(self, request, incident_id: int):
        data = self.IncidentAcknowledgeInput(data=request.data)
        data.is_valid(raise_exception=True)
        by = data.validated_data.get("by", "")
        token = request.query_params.get("token")
        if token is not None:
            if not acknowledge_token_valid(token, incident_id):
                raise Refused(_("This acknowledge link is not valid or has expired."))
            department = (
                Incident.objects.filter(pk=incident_id)
                .values_list("department__name", flat=True)
                .first()
            )
            incident = incident_acknowledge(
                incident_id=incident_id, by=by or department or _("the department")
            )
        else:
            user = request.user
            if user is None or not user.is_authenticated or isinstance(user, DeviceUser):
                raise exceptions.NotAuthenticated()
            incident = incident_acknowledge(incident_id=incident_id, by=by, user=user)
        return Response(incident_output(_fresh(incident)))


class IncidentResolveApi(APIView):
    permission_classes = [IsStaff]

    class IncidentResolveInput(serializers.Serializer):
        resolution = serializers.CharField(
            max_length=2000, required=False, allow_blank=True, default=""
        )

    @extend_schema(
        request=IncidentResolveInput,
        responses=IncidentDetailOutput,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Resolve an incident with its duration and the customers it affected "
        "(clerk or manager); a second resolve is refused (409 incident_resolved)",
    )
    @idempotent
    def post(self, request, incident_id: int):
        admission = partial(incident_admission, incident_id=incident_id, user=request.user)
        data = valid_input(self.IncidentResolveInput(data=request.data), admission=admission)
        incident = incident_resolve(
            incident_id=incident_id, user=request.user, resolution=data["resolution"]
        )
        return Response(incident_output(_fresh(incident)))
