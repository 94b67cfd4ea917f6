from django.urls import include, re_path
from django.views.decorators.csrf import csrf_exempt

from ragsite.api import health
from ragsite.api.views import api_not_found

urlpatterns = [
    # No authentication (RAGFlow v0.27 §3.1).
    re_path(r"^system/healthz/?$", health.healthz),
    re_path(r"^system/ping/?$", health.ping),
    re_path(r"^system/version/?$", health.version),
    re_path(r"", include("knowledge.api.urls")),
    re_path(r"", include("chat.api.urls")),
    re_path(r"", include("agents.api.urls")),
    # Must stay last: everything else under /api/v1 is an unknown route.
    re_path(r"^(?P<path>.*)$", csrf_exempt(api_not_found)),
]
