"""The OpenAPI schema documents the contract; Swagger UI works on a closed network."""

import json
import re

import pytest
import yaml
from django.core.management import call_command

from tests.test_api_errors import COUNTER_ACTIONS

CONTRACT_PATHS = {
    "/api/v1/auth/token/": "post",
    "/api/v1/halls/{hall}/business-types/": "get",
    "/api/v1/halls/{hall}/counters/": "get",
    "/api/v1/halls/{hall}/tickets/": "post",
    "/api/v1/tickets/{ticket_id}/": "get",
    "/api/v1/tickets/{ticket_id}/transfer/": "post",
    "/api/v1/t/{token}/": "get",
    **{f"/api/v1/counters/{{counter_id}}/{action}/": "post" for action in COUNTER_ACTIONS},
}


@pytest.fixture
def schema(client, db):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_openapi_3_and_lists_every_path_of_the_contract(schema):
    assert schema["openapi"].startswith("3.")
    for path, method in CONTRACT_PATHS.items():
        assert path in schema["paths"], path
        assert method in schema["paths"][path], (path, method)


def test_schema_is_also_served_as_yaml_by_default(client, db):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


def test_schema_documents_the_idempotency_key_on_issue_and_counter_actions(schema):
    for path, method in CONTRACT_PATHS.items():
        if method != "post" or path == "/api/v1/auth/token/":
            continue
        headers = {
            p["name"]
            for p in schema["paths"][path][method].get("parameters", [])
            if p["in"] == "header"
        }
        assert "Idempotency-Key" in headers, path


def test_schema_documents_the_issue_request_and_its_201_answer(schema):
    operation = schema["paths"]["/api/v1/halls/{hall}/tickets/"]["post"]
    assert "201" in operation["responses"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert request["required"] == ["business_type"]
    assert {"business_type", "lane", "priority_reason", "phone", "vip_account"} <= set(
        request["properties"]
    )


def test_schema_documents_the_device_token_scheme(schema):
    assert "deviceAuth" in schema["components"]["securitySchemes"]


def test_swagger_ui_is_served_from_our_own_static_files(client, db):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html.lower()
    hosts = set(re.findall(r"""(?:src|href)\s*=\s*["'](?:https?:)?//([^/"']+)""", html))
    assert not hosts, f"assets from other hosts: {hosts}"
    for host in ("cdn", "jsdelivr", "unpkg", "cloudflare", "googleapis"):
        assert host not in html.lower()
    assets = re.findall(r"""["'](/static/[^"']+\.(?:js|css))["']""", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
    assert any(a.endswith(".css") for a in assets), assets
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert b"".join(served.streaming_content if served.streaming else [served.content])


def test_swagger_ui_does_not_call_the_online_validator(client, db):
    """Swagger UI's default badge loads an image from validator.swagger.io (and sends it our
    schema URL) whenever the page is not on localhost: an outside host on a closed network."""
    html = client.get("/api/v1/docs/").content.decode()
    settings_json = re.search(r"const swaggerSettings = (\{.*?\});", html, re.S).group(1)
    assert json.loads(settings_json).get("validatorUrl", "default") is None


def test_spectacular_validate_fail_on_warn_passes(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert yaml.safe_load(out.read_text())["paths"]


@pytest.mark.parametrize(
    "url", ["/api/nope/", "/api/v1/nope/", "/api/v2/halls/h1/tickets/", "/api/v1/counters/x/open/"]
)
def test_unknown_api_url_answers_404_in_the_error_shape(client, db, url):
    for response in (client.get(url), client.post(url, data="{}", content_type="application/json")):
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {
            "error": {
                "code": "not_found",
                "message": response.json()["error"]["message"],
                "fields": {},
            }
        }
        assert response.json()["error"]["message"]


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_error_code_the_api_can_answer_is_documented_under_its_status(schema):
    import counters.satisfaction  # noqa: F401  (error classes live next to their services)
    import queueing.appointments.errors  # noqa: F401
    import recovery.complaints  # noqa: F401
    import recovery.incidents  # noqa: F401
    from hall.errors import DomainError

    documented = {
        status: json.dumps(responses[status]["description"])
        for responses in [schema["paths"]["/api/v1/halls/{hall}/tickets/"]["post"]["responses"]]
        for status in responses
    }
    for error in [DomainError, *_subclasses(DomainError)]:
        status = str(error.status_code)
        assert f"`{error.code}`" in documented.get(status, ""), (error.__name__, status)


def test_the_unhandled_error_codes_are_documented_on_every_operation(schema):
    from hall.errors import SERVER_ERROR, SERVICE_UNAVAILABLE

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for error in (SERVER_ERROR, SERVICE_UNAVAILABLE):
                description = responses[str(error.status_code)]["description"]
                assert f"`{error.code}`" in description, (method, path)


BOOKING_PATHS = {
    "/api/v1/halls/{hall}/bookable/": "get",
    "/api/v1/halls/{hall}/bookable/{code}/slots/": "get",
    "/api/v1/halls/{hall}/phone-codes/": "post",
    "/api/v1/halls/{hall}/bookings/": "post",
    "/api/v1/halls/{hall}/bookings/check-in/": "post",
    "/api/v1/bookings/{booking_code}/cancel/": "post",
}


def test_schema_documents_the_appointment_endpoints_and_their_idempotency_key(schema):
    for path, method in BOOKING_PATHS.items():
        assert method in schema["paths"].get(path, {}), path
    for path in (
        "/api/v1/halls/{hall}/bookings/",
        "/api/v1/halls/{hall}/bookings/check-in/",
        "/api/v1/bookings/{booking_code}/cancel/",
    ):
        operation = schema["paths"][path]["post"]
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, path
    check_in = schema["paths"]["/api/v1/halls/{hall}/bookings/check-in/"]["post"]
    assert "`check_in_too_early`" in check_in["responses"]["409"]["description"]
    assert "429" in schema["paths"]["/api/v1/halls/{hall}/phone-codes/"]["post"]["responses"]
