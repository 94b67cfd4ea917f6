"""ASGI entry point for Daphne: HTTP (with static files) and websockets."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragsite.settings")

from ragsite.daphne_bodies import pass_bodies_through  # noqa: E402

pass_bodies_through()

import django  # noqa: E402

# Build the Django app before importing anything that touches models (consumers, routing).
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application does

from ragsite.asgi_handler import RagsiteASGIHandler  # noqa: E402

django_asgi_app = RagsiteASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from ragsite.routing import websocket_urlpatterns  # noqa: E402


def _warm_up() -> None:
    """Load the default embedding model and the Chinese segmenter, so the first chunk save,
    retrieval or chat does not wait for them (about 3 s on first use); say when it is done."""
    import logging
    import time

    from knowledge.embeddings import warm_up

    started = time.monotonic()
    warm_up()
    logging.getLogger(__name__).info("Warm-up finished after %.1f s", time.monotonic() - started)


if settings.RAGSITE_PRELOAD_MODELS:
    import threading

    # Off the event loop, so start-up is not delayed.
    threading.Thread(target=_warm_up, name="model-warm-up", daemon=True).start()

application = ProtocolTypeRouter(
    {
        # Plain Daphne serves no static files; this handler does, so one process is enough on a
        # laptop. Production can put a proxy or a CDN in front of STATIC_ROOT instead.
        "http": ASGIStaticFilesHandler(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
