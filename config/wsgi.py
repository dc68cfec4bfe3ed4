"""The WSGI application: the REST API and the pages on the web tier (gunicorn gthread workers,
deploy/gunicorn.conf.py). WebSockets are the ASGI tier's (config/asgi.py, /ws/ routed there by
the proxy); a WebSocket request reaching this tier is a plain GET and gets a 404."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from channels.layers import get_channel_layer  # noqa: E402 - needs Django set up first

# The API publishes live events after commit (display/publisher.py: through its own sender
# thread and event loop when the layer is Redis). Build the layer at worker start, not inside
# the first request that publishes (importing redis takes about half a second).
get_channel_layer()
