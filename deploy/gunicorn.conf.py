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
