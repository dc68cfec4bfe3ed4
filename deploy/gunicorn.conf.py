"""Gunicorn with uvicorn workers: several ASGI processes, each serving HTTP and WebSockets.

One async worker per core is the usual fit; WEB_CONCURRENCY overrides it.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "uvicorn_worker.UvicornWorker"
graceful_timeout = 20
timeout = 60
keepalive = 5
max_requests = 20000  # recycle workers now and then; jitter keeps them from restarting together
max_requests_jitter = 2000
accesslog = "-" if os.environ.get("ACCESS_LOG", "0") == "1" else None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

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
