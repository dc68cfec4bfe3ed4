"""What an unhandled error answers (hall/errors.py): 500 ``server_error`` for a bug, 503
``service_unavailable`` with Retry-After while the database cannot be reached. The error shape
for the API and for requests that ask for JSON; a bilingual page for the rest; never a masked 4xx.

The views below are this module's own URLs (with the project's handler500); the last tests break
the real database connection under the project's real routes.
"""

import pytest
from django.db import IntegrityError, OperationalError, connections
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path
from psycopg_pool import PoolTimeout
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from config import urls as project_urls
from hall.errors import RETRY_AFTER_SECONDS

pytestmark = pytest.mark.urls(__name__)


def _raising_api(exc: Exception):
    class RaisingApi(APIView):
        authentication_classes = []
        permission_classes = [AllowAny]

        def get(self, request):
            raise exc

    return RaisingApi.as_view()


def _raising_page(exc: Exception):
    def page(request):
        raise exc

    return page


def _healthy_page(request):
    return HttpResponse("ok")


handler500 = project_urls.handler500
urlpatterns = [
    path("api/v1/test/bug/", _raising_api(RuntimeError("a bug"))),
    path("api/v1/test/db-down/", _raising_api(OperationalError("connection refused"))),
    path("api/v1/test/pool-timeout/", _raising_api(PoolTimeout("no connection after 10 s"))),
    path("api/v1/test/integrity/", _raising_api(IntegrityError("duplicate key"))),
    path("api/v1/test/invalid/", _raising_api(exceptions.ValidationError({"lane": ["bad"]}))),
    path("api/v1/test/plain-bug/", _raising_page(KeyError("a bug outside DRF"))),
    path("test/bug/", _raising_page(RuntimeError("a bug"))),
    path("test/db-down/", _raising_page(OperationalError("server closed the connection"))),
    path("test/ok/", _healthy_page),
    path("", include(project_urls)),
]


@pytest.fixture
def client():
    """Django's test client re-raises a view's exception by default; a browser gets a response."""
    return Client(raise_request_exception=False)


def _error(response) -> dict:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.json()["error"]


# --- 500 -------------------------------------------------------------------------------------


def test_a_bug_in_an_api_view_answers_500_in_the_error_shape(client):
    response = client.get("/api/v1/test/bug/")

    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": "服务器出错了。请重试;如果再次出现,请告知工作人员。",
            "fields": {},
        }
    }
    assert "Retry-After" not in response


def test_the_500_message_follows_accept_language(client):
    error = _error(client.get("/api/v1/test/bug/", HTTP_ACCEPT_LANGUAGE="en"))
    assert error["message"].startswith("Something went wrong on the server.")


def test_a_bug_outside_drf_under_api_answers_json_too(client):
    response = client.get("/api/v1/test/plain-bug/")

    assert response.status_code == 500
    assert _error(response)["code"] == "server_error"


def test_a_database_constraint_error_is_a_500_not_a_503(client):
    """Only "cannot reach it" is worth retrying; a violated constraint is a bug."""
    response = client.get("/api/v1/test/integrity/")

    assert response.status_code == 500
    assert _error(response)["code"] == "server_error"


def test_bad_input_keeps_its_400(client):
    response = client.get("/api/v1/test/invalid/")

    assert response.status_code == 400
    assert _error(response)["code"] == "invalid"


def test_a_page_bug_answers_a_bilingual_page_with_the_same_status(client):
    response = client.get("/test/bug/", HTTP_ACCEPT="text/html,*/*;q=0.8")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "服务器出错了" in page and "Something went wrong on the server" in page
    assert "Server Error (500)" not in page
    assert 'data-error-code="server_error"' in page


def test_a_page_request_that_asks_for_json_gets_json(client):
    response = client.get("/test/bug/", HTTP_ACCEPT="application/json")

    assert response.status_code == 500
    assert _error(response)["code"] == "server_error"


# --- 503 -------------------------------------------------------------------------------------


def _assert_unavailable(response):
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    error = _error(response)
    assert error["code"] == "service_unavailable"
    assert error["fields"] == {}
    return error


@pytest.mark.parametrize("url", ["/api/v1/test/db-down/", "/api/v1/test/pool-timeout/"])
def test_an_unreachable_database_answers_503_with_retry_after(client, url):
    error = _assert_unavailable(client.get(url))
    assert error["message"] == "服务暂时不可用,请几秒后重试。"


def test_the_503_holds_with_debug_on(client, settings):
    """The API's mapping is in DRF's exception handler, which DEBUG does not bypass."""
    settings.DEBUG = True
    _assert_unavailable(client.get("/api/v1/test/db-down/", HTTP_ACCEPT_LANGUAGE="en"))


def test_a_page_whose_database_is_down_answers_a_503_page(client):
    response = client.get("/test/db-down/", HTTP_ACCEPT="text/html")

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    page = response.content.decode()
    assert "服务暂时不可用" in page and "temporarily unavailable" in page


@pytest.fixture
def database_down(db, monkeypatch):
    """Every new cursor fails as SQLite does when it cannot open its file; Django wraps the
    driver's error in its own OperationalError, as it does PostgreSQL's "connection refused"."""

    # The backend's own driver error (sqlite3's, or psycopg's in the services run).
    driver_error = connections["default"].Database.OperationalError

    def refuse(self, name=None):
        raise driver_error("unable to open database file")

    # Undone here, before the db fixture's own teardown needs a cursor again.
    with monkeypatch.context() as patch:
        patch.setattr(type(connections["default"]), "create_cursor", refuse)
        yield


def test_device_authentication_with_the_database_down_answers_503(client, kiosk, database_down):
    response = client.get(
        f"/api/v1/halls/{kiosk.hall.code}/business-types/",
        HTTP_AUTHORIZATION=f"Device {kiosk.token}",
    )

    _assert_unavailable(response)


def test_a_ticket_issue_with_the_database_down_answers_503(client, kiosk, database_down):
    response = client.post(
        f"/api/v1/halls/{kiosk.hall.code}/tickets/",
        {"business_type": "payment"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Device {kiosk.token}",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )

    _assert_unavailable(response)


def test_the_customers_status_page_with_the_database_down_answers_a_503_page(client, database_down):
    response = client.get("/t/some-token/", HTTP_ACCEPT="text/html")

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "服务暂时不可用" in response.content.decode()


def test_healthz_does_not_need_the_database(client, database_down):
    assert client.get("/healthz/").status_code == 200
