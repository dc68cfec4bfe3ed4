"""Adds DESIGN.md's error shape to every operation of the OpenAPI schema."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "example": "counter_paused"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "Per-field messages for invalid input.",
                },
                "ways_out": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "On `counter_busy` from `pause` (issue 16): the counter actions "
                    "that free the counter first: finish, transfer, no-show, requeue.",
                },
                "retry_after": {
                    "type": "integer",
                    "description": "On `recall_too_soon` (issue 16): seconds until the hall's "
                    "recall cool-down ends (also the `Retry-After` header); on "
                    "`too_many_requests`: seconds until a phone may ask for a code again.",
                },
                "come_back_at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "On `check_in_too_early`: when the booking's check-in opens.",
                },
                "walk_in_offered": {
                    "type": "boolean",
                    "description": "On `check_in_too_early`: true when a walk-in ticket may be "
                    "taken now instead (`walk_in_if_early`).",
                },
            },
        }
    },
}

_ERRORS = {
    "400": "Invalid input (`invalid`, `malformed_request`, `business_type_unavailable`, "
    "`transfer_refused`; appointments: `slot_unavailable` (a past slot, too soon or too far "
    "ahead, a closed day, not a slot), `not_bookable`, `verification_failed`, ...)",
    "401": "Not authenticated",
    "403": "Not allowed (`forbidden`): another hall's device or counter, or the wrong role; "
    "`booking_barred`: too many missed bookings",
    "404": "Unknown hall, counter or ticket (`not_found`)",
    "409": "Conflicts with the current state (`conflict`, `counter_busy`, `counter_paused`, "
    "`counter_closed`, `counter_taken`, `clerk_at_another_counter`, `no_active_ticket`, "
    "`invalid_transition`, `hall_closed`, `business_type_suspended`, `incident_resolved`, "
    "`complaint_already_replied`, `already_rated`, `not_rateable`, `rating_window_closed`, "
    "`recall_too_soon`; appointments: `slot_full`, `already_booked`, `booking_closed`, "
    "`cancel_too_late`, `check_in_too_early`)",
    "422": "Idempotency-Key reused with a different request (`idempotency_key_reused`)",
    "429": "Too many requests (`too_many_requests`): a phone's one-time codes, one a minute and "
    "five an hour; `retry_after` and the `Retry-After` header say when to ask again",
    "500": "Unexpected server error (`server_error`): a bug, logged on the server",
    "503": "A dependency (the database) cannot be reached (`service_unavailable`); the "
    "`Retry-After` header says after how many seconds to try again",
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        if path.endswith("/schema/"):
            continue
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status, description in _ERRORS.items():
                if method == "get" and status in ("409", "422", "429"):
                    continue
                responses.setdefault(status, {"description": description, "content": ref})
    return result
