"""The web tier: gunicorn gthread workers serving config.wsgi, for the REST API and the pages.

Django's views are synchronous: on a thread of a WSGI worker a request runs directly, without
the hand-off to a thread that ASGI costs every sync view, and the thread (with its database
connection) lives as long as the worker. WebSockets are the ws tier's (deploy/gunicorn_ws.conf.py);
the proxy routes /ws/ there.

Sizing, for the 2-core box DESIGN.md measures on:
- WEB_CONCURRENCY processes, one per core by default: the GIL lets a process use about one core.
- WEB_THREADS threads per process (default 8): a request spends much of its time waiting for
  PostgreSQL (and for the hall's row lock when counters of one hall act at once), and threads
  cover that wait; many more only queue for the GIL. Each thread holds at most one database
  connection while it serves a request, so keep WEB_THREADS <= DB_POOL_MAX_SIZE (default 16), or
  requests wait for a pooled connection (config/settings.py).
Idle keep-alive connections (nginx keeps 64 open) wait in the worker's poller, not on a thread.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", 8))
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
