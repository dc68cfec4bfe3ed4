"""The ws tier: gunicorn with uvicorn workers serving config.asgi, for the display WebSockets.

The proxy routes /ws/ here (deploy/nginx/hallq.conf); the REST API and pages are the web tier's
(deploy/gunicorn.conf.py, WSGI). This tier answers HTTP too (its /healthz/ is the probes'), but
no client is sent to it for the API.

One async worker per core is the usual fit; WS_CONCURRENCY overrides it. Its own variables
(WS_BIND, WS_CONCURRENCY), so the two tiers can share one environment file (Procfile, compose).
"""

import multiprocessing
import os

bind = os.environ.get("WS_BIND", "0.0.0.0:8001")
workers = int(os.environ.get("WS_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "uvicorn_worker.UvicornWorker"
graceful_timeout = 20
timeout = 60
keepalive = 5
max_requests = 20000  # recycle workers now and then; jitter keeps them from restarting together
max_requests_jitter = 2000
accesslog = "-" if os.environ.get("ACCESS_LOG", "0") == "1" else None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn >= 25 opens a control socket at one default path per user ($XDG_RUNTIME_DIR or
# ~/.gunicorn/gunicorn.ctl): the two tiers' masters on one host would take it from each other,
# and nothing here uses gunicornc.
control_socket_disable = True

# Browsers offer permessage-deflate on every WebSocket; uvicorn would accept it and then
# compress each frame once per connection (each has its own zlib context), so one hall event
# costs a compression per connected display: a third more web CPU and a worse p99 with 1,000
# displays (deploy/bench/results/ws_fanout.md). Frames are ~1.7 kB, nothing for a hall's LAN.
# WS_PER_MESSAGE_DEFLATE=1 turns compression back on (e.g. for displays on a slow link).
_ws_per_message_deflate = os.environ.get("WS_PER_MESSAGE_DEFLATE", "0") == "1"


def post_fork(server, worker):
    config = getattr(worker, "config", None)  # uvicorn's Config, built before the fork
    if config is not None:
        config.ws_per_message_deflate = _ws_per_message_deflate
