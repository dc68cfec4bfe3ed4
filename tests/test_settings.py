"""config/settings.py in fresh processes: the embedded default needs no variable, production is
switched on by the environment, and a bad value stops start-up naming the variable.

Every subprocess gets a clean environment (whatever DATABASE_URL/REDIS_URL the test run itself
uses is removed) and its own HALLQ_VAR_DIR, so nothing touches the project's var/.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

# Variables settings.py reads; none may leak in from the environment running the tests.
SETTINGS_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DEBUG",
    "DB_CONN_MAX_AGE",
    "CELERY_TASK_ALWAYS_EAGER",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SQLITE_TEST_NAME",
    "LOG_LEVEL",
)
# Long and varied enough for Django's own security.W009 check.
PRODUCTION_SECRET = "k3y-Fq9vXw2LmN8pRt5sYz7bCd4eGh6jJa1oPu0iKl-Mn3Bv5Cx7Zq9Wr2Ty4Ui6"
# An address where nothing listens: proves `check --deploy` never connects to the database.
UNREACHABLE_POSTGRES = "postgres://hallq@127.0.0.1:1/hallq"
PRODUCTION = {
    "DATABASE_URL": UNREACHABLE_POSTGRES,
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "SECRET_KEY": PRODUCTION_SECRET,
    "ALLOWED_HOSTS": "hall.example.com",
}


def _env(tmp_path, env_vars: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", HALLQ_VAR_DIR=str(tmp_path / "var"))
    env.update(env_vars)
    return env


def run(tmp_path, args, **env_vars) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=_env(tmp_path, env_vars),
        capture_output=True,
        text=True,
        timeout=120,
    )


def start(tmp_path, args, **env_vars) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=_env(tmp_path, env_vars),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def probe(tmp_path, code: str, **env_vars) -> dict:
    """Run ``code`` (which prints one JSON object) in a fresh interpreter."""
    result = run(tmp_path, ["-c", code], **env_vars)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


EMBEDDED_PROBE = """
import json, sqlite3
from django.conf import settings
from django.db import connection, transaction
from config.celery import app

db = settings.DATABASES["default"]
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    journal_mode = cursor.fetchone()[0]
# IMMEDIATE really: once an atomic block begins, another writer cannot even begin.
with transaction.atomic():
    other = sqlite3.connect(db["NAME"], timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        writer_blocked = False
    except sqlite3.OperationalError as exc:
        writer_blocked = "locked" in str(exc)
    other.close()
print(json.dumps({
    "engine": db["ENGINE"],
    "name": str(db["NAME"]),
    "journal_mode": journal_mode,
    "transaction_mode": db["OPTIONS"].get("transaction_mode"),
    "writer_blocked": writer_blocked,
    "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "eager_setting": settings.CELERY_TASK_ALWAYS_EAGER,
    "eager_celery": app.conf.task_always_eager,
    "debug": settings.DEBUG,
    "allowed_hosts": settings.ALLOWED_HOSTS,
}))
"""

PRODUCTION_PROBE = """
import json
from django.conf import settings
from django.db import connection
from psycopg_pool import ConnectionPool
from config.celery import app

db = settings.DATABASES["default"]
pool = connection.pool  # built, not opened: no database needed
print(json.dumps({
    "engine": db["ENGINE"],
    "name": db["NAME"],
    "conn_max_age": db.get("CONN_MAX_AGE"),
    "pool": db.get("OPTIONS", {}).get("pool"),
    "pool_checks_connections": pool is not None and pool._check == ConnectionPool.check_connection,
    "health_checks": db.get("CONN_HEALTH_CHECKS"),
    "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "channel_hosts": settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"],
    "broker": app.conf.broker_url,
    "eager_setting": settings.CELERY_TASK_ALWAYS_EAGER,
    "eager_celery": app.conf.task_always_eager,
    "debug": settings.DEBUG,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "secret_key_is_the_given_one": settings.SECRET_KEY.startswith("k3y-"),
}))
"""


def test_the_embedded_default_needs_no_environment_variable(tmp_path):
    found = probe(tmp_path, EMBEDDED_PROBE)
    assert found["engine"] == "config.sqlite"  # Django's SQLite, writers queued fairly
    assert Path(found["name"]) == tmp_path / "var" / "hallq.sqlite3"
    assert found["journal_mode"] == "wal"
    assert found["transaction_mode"] == "IMMEDIATE"
    assert found["writer_blocked"] is True
    assert found["channel_layer"] == "channels.layers.InMemoryChannelLayer"
    assert found["eager_setting"] is True and found["eager_celery"] is True
    assert found["debug"] is True
    assert set(found["allowed_hosts"]) == {"127.0.0.1", "localhost"}
    # The per-install secret key lives in the var dir it was given, readable by its owner only.
    key = tmp_path / "var" / "secret_key"
    assert len(key.read_text().strip()) >= 50
    assert key.stat().st_mode & 0o077 == 0


def test_production_variables_switch_to_postgresql_and_redis(tmp_path):
    found = probe(tmp_path, PRODUCTION_PROBE, **PRODUCTION)
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["name"] == "hallq"
    # A bounded connection pool per process by default (ASGI threads would otherwise each
    # open a connection per request).
    assert found["pool"] == {"min_size": 2, "max_size": 16, "timeout": 10, "reconnect_timeout": 5}
    # A pooled connection that died while idle (PostgreSQL restarted) is checked and replaced
    # at checkout instead of failing a request.
    assert found["pool_checks_connections"] is True
    assert found["channel_layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    # redis-py 8's 5 s read timeout and 100-connection pool would break the layer under load.
    assert found["channel_hosts"] == [
        {"address": "redis://127.0.0.1:6379/0", "socket_timeout": 10, "max_connections": 5000}
    ]
    assert found["broker"].startswith("redis://127.0.0.1:6379")
    assert found["eager_setting"] is False and found["eager_celery"] is False
    assert found["debug"] is False
    assert found["allowed_hosts"] == ["hall.example.com"]
    assert found["secret_key_is_the_given_one"] is True
    assert not (tmp_path / "var" / "secret_key").exists()


def test_persistent_connections_instead_of_the_pool(tmp_path):
    found = probe(
        tmp_path, PRODUCTION_PROBE, **PRODUCTION, DB_POOL_MAX_SIZE="0", DB_CONN_MAX_AGE="60"
    )
    assert found["pool"] is None
    assert found["conn_max_age"] == 60
    assert found["health_checks"] is True


def test_deploy_check_is_clean_in_production_without_a_database(tmp_path):
    """Run with the production variables (the database address is unreachable: the check must
    not connect) and, as a control that the check is not vacuous, with the embedded default,
    which it must flag (DEBUG on). Both run at once: each start-up takes seconds."""
    deploy_check = ["manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    production = start(tmp_path / "production", deploy_check, **PRODUCTION)
    embedded = start(tmp_path / "embedded", deploy_check)
    out, err = production.communicate(timeout=120)
    assert production.returncode == 0, out + err
    assert "no issues" in out
    out, err = embedded.communicate(timeout=120)
    assert embedded.returncode != 0
    assert "security.W018" in out + err


BAD_VALUES = {
    "mysql-url": ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    "garbage-url": ({"DATABASE_URL": "garbage"}, "DATABASE_URL"),
    "http-redis": ({"REDIS_URL": "http://x"}, "REDIS_URL"),
    "redis-bad-port": ({"REDIS_URL": "redis://host:notaport"}, "REDIS_URL"),
    "debug-maybe": ({"DEBUG": "maybe"}, "DEBUG"),
    "short-secret": ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    "secret-without-hosts": ({"SECRET_KEY": PRODUCTION_SECRET}, "ALLOWED_HOSTS"),
    "conn-max-age-abc": ({"DB_CONN_MAX_AGE": "abc"}, "DB_CONN_MAX_AGE"),
    "conn-max-age-abc-production": ({**PRODUCTION, "DB_CONN_MAX_AGE": "abc"}, "DB_CONN_MAX_AGE"),
    "conn-max-age-negative": ({**PRODUCTION, "DB_CONN_MAX_AGE": "-1"}, "DB_CONN_MAX_AGE"),
    "conn-max-age-with-pool": ({**PRODUCTION, "DB_CONN_MAX_AGE": "60"}, "DB_CONN_MAX_AGE"),
    "pool-size-abc": ({**PRODUCTION, "DB_POOL_MAX_SIZE": "abc"}, "DB_POOL_MAX_SIZE"),
    "pool-timeout-zero": ({**PRODUCTION, "DB_POOL_TIMEOUT": "0"}, "DB_POOL_TIMEOUT"),
    "control-good-production": (PRODUCTION, None),
}

# One interpreter runs settings.py afresh for every case (as start-up does): a subprocess
# each would cost a second apiece. test_manage_py_refuses_... checks one real start-up.
BAD_VALUES_PROBE = """
import json, os, runpy, sys
from django.core.exceptions import ImproperlyConfigured

cases = json.loads(sys.argv[1])
base = dict(os.environ)
found = {}
for name, env_vars in cases.items():
    os.environ.clear()
    os.environ.update(base, **env_vars)
    try:
        runpy.run_module("config.settings", run_name="config.settings")
        found[name] = None
    except ImproperlyConfigured as exc:
        found[name] = "ImproperlyConfigured: " + str(exc)
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def start_up_errors(tmp_path_factory):
    cases = {name: env_vars for name, (env_vars, _) in BAD_VALUES.items()}
    result = run(tmp_path_factory.mktemp("bad"), ["-c", BAD_VALUES_PROBE, json.dumps(cases)])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", BAD_VALUES)
def test_a_bad_value_stops_start_up_naming_the_variable(start_up_errors, case):
    variable = BAD_VALUES[case][1]
    error = start_up_errors[case]
    if variable is None:  # the control: the same probe accepts good production values
        assert error is None
    else:
        assert error is not None and error.startswith("ImproperlyConfigured: ")
        assert variable in error


def test_manage_py_refuses_to_start_with_a_bad_value(tmp_path):
    result = run(tmp_path, ["manage.py", "check"], REDIS_URL="http://x")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "REDIS_URL" in result.stderr
