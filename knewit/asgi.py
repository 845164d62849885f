"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "knewit.settings")
# Load Django (apps, models) before anything that imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from knewit.request_threads import PooledRequestThreads  # noqa: E402
from sessions_app.live.routing import websocket_urlpatterns  # noqa: E402
from sessions_app.middleware import websocket_stack  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": PooledRequestThreads(django_asgi_app, settings.KNEWIT["HTTP_THREADS"]),
        "websocket": websocket_stack(URLRouter(websocket_urlpatterns)),
    }
)

# Python's default collector thresholds (700, 10, 10) ran a full collection every second or two under
# a classroom's load, each a 200-250 ms pause of the event loop that every socket waits behind; they
# found nothing to free (bench/RESULTS.md). Our objects die by reference counting, so collect less
# often, and leave everything loaded at startup out of the collections. The price is memory: cyclic
# garbage waits longer (a loop of HTTP requests to /metrics levels off ~70 MB higher than with the
# defaults; a game's sockets make little of it, see the soak in RESULTS.md).
gc.freeze()
gc.set_threshold(50_000, 20, 20)
