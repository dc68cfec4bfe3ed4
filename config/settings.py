"""One settings module, driven by the environment.

With no variable set this is the embedded default: SQLite in WAL mode with IMMEDIATE
transactions, the in-memory channel layer and eager Celery tasks. DATABASE_URL, REDIS_URL,
SECRET_KEY and ALLOWED_HOSTS switch to production (PostgreSQL, Redis channel layer and broker).
"""

import contextlib
import secrets
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import (
    env_bool,
    env_database,
    env_float,
    env_int,
    env_list,
    env_redis,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HALLQ_VAR_DIR", str(BASE_DIR / "var")))


def _embedded_secret_key() -> str:
    """A per-install random key for the embedded default, kept in var/ so sessions survive."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


_secret_from_env = env_str("SECRET_KEY")
PRODUCTION = bool(_secret_from_env)
if PRODUCTION and len(_secret_from_env) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long")
SECRET_KEY = _secret_from_env or _embedded_secret_key()
DEBUG = env_bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when SECRET_KEY is set (production)")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",  # ASGI runserver for development only; production runs gunicorn (deploy/Procfile)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "hall",
    "queueing",
    "counters",
    "recovery",
    "display",
    "reports",
    "config",  # the demo commands (seed_demo, demo_live); its strings are in LOCALE_PATHS
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------------
_database = env_database("DATABASE_URL")
# Read even when unused (SQLite), so a bad value fails at start-up instead of lying in wait.
_conn_max_age = env_int("DB_CONN_MAX_AGE", 0, minimum=0)
# The pool is the default for every tier. The ws tier (ASGI) needs it (below). On the web tier's
# gthread workers (deploy/gunicorn.conf.py) threads are long-lived, so persistent connections
# (DB_POOL_MAX_SIZE=0 DB_CONN_MAX_AGE=60, in that tier's environment only) would work too; the
# pool keeps one setting for all processes and bounds each one's connections, and a checkout
# costs no more than the per-request health check persistent connections run. Its size must
# cover WEB_THREADS (default 8), or a thread waits for another's connection.
_pool_max_size = env_int("DB_POOL_MAX_SIZE", 16, minimum=0)
if _database is None or _database["ENGINE"].endswith("sqlite3"):
    _sqlite_name = (_database or {}).get("NAME") or str(VAR_DIR / "hallq.sqlite3")
    _database = {
        # Django's SQLite backend, plus a fair queue for writers (see config/sqlite/base.py).
        "ENGINE": "config.sqlite",
        "NAME": _sqlite_name,
        "OPTIONS": {
            # IMMEDIATE takes the write lock at BEGIN, so two writers never deadlock upgrading
            # a read lock; WAL lets readers (displays, the status page) run beside one writer.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000"
            ),
        },
        # ":memory:" spelled out: pytest-django recognises the default only by Django's own
        # ENGINE string, and would otherwise give each xdist worker a file named after NAME.
        "TEST": {"NAME": env_str("SQLITE_TEST_NAME") or ":memory:"},
    }
else:
    if _pool_max_size:
        # Under ASGI every request runs in a fresh thread with a connection of its own: without a
        # pool each request paid a new PostgreSQL connection, and an overload opened more than
        # the server allows ("too many clients": 500s, deploy/bench/results/http.md). The pool
        # bounds each process's connections; a request waits up to DB_POOL_TIMEOUT for one.
        if _conn_max_age:
            raise ImproperlyConfigured(
                "DB_CONN_MAX_AGE cannot be used with the connection pool; "
                "set DB_POOL_MAX_SIZE=0 to use persistent connections instead"
            )
        _database.setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, _pool_max_size),
            "max_size": _pool_max_size,
            "timeout": env_int("DB_POOL_TIMEOUT", 10, minimum=1),
            # While PostgreSQL is down the pool retries connecting with a doubling delay, for
            # reconnect_timeout (default 5 minutes): back up, it could sit out a 30 s delay
            # answering 503s. Giving up after 5 s lets the next request try at once.
            "reconnect_timeout": 5,
        }
        # Django gives the pool psycopg_pool's check_connection: a connection that died while
        # idle in the pool (PostgreSQL restarted) is replaced at checkout instead of failing
        # a request. One empty round trip per checkout.
        _database["CONN_HEALTH_CHECKS"] = True
    else:
        _database["CONN_MAX_AGE"] = _conn_max_age
        _database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, Celery broker, cache ------------------------------------------------
REDIS_URL = env_redis("REDIS_URL")
# Which channels_redis layer carries live events: "pubsub" (Redis PUBLISH, one message per
# process and group) or "core" (sorted sets per channel). Chosen by deploy/bench/ws_fanout_bench.py
# (results/ws_fanout.md): with 1,000 displays on a hall the core layer's receive wakes every
# consumer of the process for each message and saturates the workers; pubsub keeps up.
REDIS_CHANNEL_LAYER = env_str("REDIS_CHANNEL_LAYER", "pubsub")
# Two redis-py 8 defaults break the layer under load (django/channels_redis#422):
# - socket reads time out after 5 s, exactly the core layer's blocking BZPOPMIN, so consumers
#   crash with TimeoutError and a popped message can be lost: 10 s is longer than any blocking
#   read, still finite so a dead Redis shows;
# - a process's pool refuses a 101st connection (MaxConnectionsError): every display joins and
#   leaves its group with its own Redis call, so a thousand reconnecting at once need more.
_REDIS_LAYER_HOSTS = [{"address": REDIS_URL, "socket_timeout": 10, "max_connections": 5000}]
# The layers' names in Redis start with this. Redis PUBLISH (the pubsub layer) ignores the
# database number of REDIS_URL: deployments (or test runs) sharing one Redis would receive each
# other's hall events unless their prefixes differ.
_REDIS_CHANNEL_PREFIX = env_str("REDIS_CHANNEL_PREFIX", "asgi")
_REDIS_LAYERS = {
    "core": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": _REDIS_LAYER_HOSTS,
            "prefix": _REDIS_CHANNEL_PREFIX,
            "capacity": 1000,
            "expiry": 30,
        },
    },
    "pubsub": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": _REDIS_LAYER_HOSTS, "prefix": _REDIS_CHANNEL_PREFIX},
    },
}
if REDIS_CHANNEL_LAYER not in _REDIS_LAYERS:
    raise ImproperlyConfigured(
        f"REDIS_CHANNEL_LAYER must be core or pubsub, got {REDIS_CHANNEL_LAYER!r}"
    )
if REDIS_URL:
    CHANNEL_LAYERS = {"default": _REDIS_LAYERS[REDIS_CHANNEL_LAYER]}
    # The cache is a help (hall/cache.py computes without it): a dead Redis must cost a quarter
    # of a second, not redis-py's default 5 s per connect and per read.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Displays: how long a failing live publish is retried before it is dropped (displays then
# resync by seq), and how often an idle display connection hears from the server.
DISPLAY_PUBLISH_RETRY_SECONDS = env_float("DISPLAY_PUBLISH_RETRY_SECONDS", default=5.0)
DISPLAY_HEARTBEAT_SECONDS = env_float("DISPLAY_HEARTBEAT_SECONDS", default=20.0)
# The board (waiting and estimated wait per business type) is computed after commit, per hall
# where hall streams are connected: at most once per MIN_INTERVAL whatever the event rate, and
# every REFRESH without events (display/board.py); by the Celery worker when there is one
# (DISPLAY_BOARD_WORKER, below), else in the server.
DISPLAY_BOARD_MIN_INTERVAL_SECONDS = env_float("DISPLAY_BOARD_MIN_INTERVAL_SECONDS", default=1.0)
DISPLAY_BOARD_REFRESH_SECONDS = env_float("DISPLAY_BOARD_REFRESH_SECONDS", default=30.0, minimum=1)
# The wall's metrics frames (display/wall/stream.py): computed where a wall is connected,
# DELAY after an event (a burst lands in one computation), at least MIN_INTERVAL apart, and every
# REFRESH without events. WALL_METRICS_PUSH off: the wall's snapshot still carries them.
WALL_METRICS_PUSH = env_bool("WALL_METRICS_PUSH", default=True)
WALL_METRICS_DELAY_SECONDS = env_float("WALL_METRICS_DELAY_SECONDS", default=0.5)
WALL_METRICS_MIN_INTERVAL_SECONDS = env_float("WALL_METRICS_MIN_INTERVAL_SECONDS", default=2.0)
WALL_METRICS_REFRESH_SECONDS = env_float("WALL_METRICS_REFRESH_SECONDS", default=30.0, minimum=1)

# Text messages to the phone a customer left at the kiosk (queueing/notices.py): a gateway URL
# that takes a signed JSON POST. Empty (the embedded default): the text is only logged.
PHONE_NOTICE_WEBHOOK_URL = env_str("PHONE_NOTICE_WEBHOOK_URL")
PHONE_NOTICE_WEBHOOK_SECRET = env_str("PHONE_NOTICE_WEBHOOK_SECRET")
if PHONE_NOTICE_WEBHOOK_URL and not PHONE_NOTICE_WEBHOOK_SECRET:
    raise ImproperlyConfigured("PHONE_NOTICE_WEBHOOK_URL needs PHONE_NOTICE_WEBHOOK_SECRET")

# Absolute links in notifications (an incident's acknowledge link in the webhook and e-mail).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- E-mail (incident escalation, complaint reminders) ---------------------------------------
# EMAIL_HOST set: SMTP. Unset (the embedded default): each message is written as a file under
# var/mail/, so a demo shows what would have been sent. Tests use Django's locmem backend.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be set")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "hallq@localhost")

# Incident escalation (recovery/escalation.py): a failed webhook or e-mail is tried again after
# BACKOFF, 2×, 4× ... seconds (at most 10 minutes), ESCALATION_MAX_TRIES tries in all.
ESCALATION_RETRY_BACKOFF_SECONDS = env_int("ESCALATION_RETRY_BACKOFF_SECONDS", 30, minimum=1)
ESCALATION_MAX_TRIES = env_int("ESCALATION_MAX_TRIES", 5, minimum=1)

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
# On: the board's forecast runs in the Celery worker, off the ASGI processes that write frames to
# the displays' sockets (display/board.py). Off by default: in the fan-out benchmark it made the
# frames later, not sooner (deploy/bench/results/ws_fanout.md); needs a worker and real tasks.
DISPLAY_BOARD_WORKER = env_bool("DISPLAY_BOARD_WORKER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# A wait alert's e-mail and wall suggestion carry the staffing planner's advice for the hour
# (recovery/alerts.py): a search of seconds, so by default only where Celery has its own workers.
ALERT_PLANNER_ADVICE = env_bool("ALERT_PLANNER_ADVICE", default=not CELERY_TASK_ALWAYS_EAGER)
# The alert check after an event that may raise or clear an alert (recovery/hooks.py) runs this
# many seconds later, at most once per hall in that time (eager Celery: at once, every time).
ALERT_CHECK_DELAY_SECONDS = env_float("ALERT_CHECK_DELAY_SECONDS", default=2.0, minimum=0)
CELERY_TASK_ACKS_LATE = True
# Redis down must not stall a request that sends a task after commit (hall/outbox.py). Unbounded,
# a publish to a Redis that accepts but never answers waited forever (measured: > 60 s) and one
# refused took 0.6 s of retries. Bounded: a connect gives up after 0.5 s, a command after 2 s
# (more than the worker's 1 s BRPOP), and a publish is retried once (a pooled connection left
# broken by a Redis restart is replaced), so at worst ~4 s, once per process every 5 s
# (hall.outbox's circuit); a refused connection costs ~0.1 s.
CELERY_BROKER_CONNECTION_TIMEOUT = 0.5
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 2}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
# A task that could not be sent is not lost: its row was written in the transaction (the outbox)
# and a beat sweep below sends it when Redis is back:
# - phone notices (PhoneNotice pending): "resend-phone-notices" (queueing.notices
#   phone_notices_resend, after 10 minutes);
# - an incident's first and later escalation rounds (Incident.next_notify_at due):
#   "escalate-incidents"; an escalation retry (a failed EscalationAttempt without its next try):
#   the same sweep (recovery.escalation escalation_lost_retries);
# - a manager alert's e-mail (ManagerAlert not notified_at): "check-alerts" (recovery.alerts
#   alerts_untold, after 10 minutes);
# - complaint reminders and escalations, day close, metric snapshots: beat-driven already.
# Live display frames are not tasks: display/publisher.py drops them and displays resync by seq.
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # Each hall closes its own day after its local closing time; the task is idempotent, so
    # running it often is harmless and catches halls in every timezone.
    "close-day": {"task": "queueing.tasks.close_day_all_halls", "schedule": 15 * 60},
    "prune-idempotency-keys": {"task": "hall.tasks.prune_idempotency_keys", "schedule": 60 * 60},
    "resend-phone-notices": {"task": "queueing.tasks.resend_phone_notices", "schedule": 5 * 60},
    # Appointments: bookings whose check-in window closed unused become no-shows (idempotent).
    "mark-booking-no-shows": {
        "task": "queueing.appointments.tasks.mark_no_shows_all_halls",
        "schedule": 5 * 60,
    },
    # Sends every incident's due notification round (and lost retries): no round depends on
    # one countdown surviving a worker restart.
    "escalate-incidents": {"task": "recovery.tasks.escalate_incidents", "schedule": 60},
    # The duty manager's wait and pause alerts (recovery/alerts.py), raised and cleared.
    "check-alerts": {"task": "recovery.tasks.check_alerts_all_halls", "schedule": 60},
    # Complaints: remind the owner before the promised callback, alert managers once it passes.
    "complaints-follow-up": {"task": "recovery.tasks.complaints_follow_up", "schedule": 60},
    # The wall's metrics of every open hall, kept per 5-minute slot (display/wall/snapshots.py). On
    # the clock's 5-minute marks, so each run falls in a slot of its own.
    "snapshot-metrics": {
        "task": "display.tasks.snapshot_metrics_all_halls",
        "schedule": crontab(minute="*/5"),
    },
}

# --- Auth ------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- I18N ------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
# Each app keeps its own catalogue in <app>/locale; this one holds the strings of config/.
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static ----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise warns on every request when the folder is missing; collectstatic fills it. In a
# read-only image collectstatic ran at build time, so failing to create it is fine.
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve straight from the apps in the embedded default

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hall.auth.DeviceAuthentication",
        "hall.auth.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "hall.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hall queue API",
    "DESCRIPTION": (
        "Tickets, counters and live displays for telecom business halls (营业厅).\n\n"
        "Live streams (WebSocket, not shown below; see the README): "
        "`/ws/halls/{hall}/display/` and `/ws/counters/{id}/display/` (device token as "
        "`?token=` or a staff session), `/ws/halls/{hall}/wall/` (staff). Each starts with the "
        "snapshot of `GET /api/v1/halls/{hall}/snapshot/` and then sends events, each with the "
        "hall's next `seq` (counter streams also `prev_seq`); a gap means: re-read the snapshot."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No online-validator badge: it loads from validator.swagger.io (closed networks, no leaks).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several components have a "reason" (a pause's, a rating's): name the pause reasons' enum.
    "ENUM_NAME_OVERRIDES": {
        "PauseReasonEnum": "counters.models.PauseReason",
        "WaitKindEnum": "queueing.wait_words.WaitKind",
        "KindEnum": "hall.models.incidents.IncidentKind",  # as before WaitKind had a "kind" too
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "hall.openapi.add_error_responses",
    ],
}

# --- Security (production) -------------------------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # uvicorn logs each WebSocket handshake at INFO with its query string: the display's
        # device token (?token=) would land in the server log.
        "uvicorn.error": {"level": "WARNING"},
    },
}
