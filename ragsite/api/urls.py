from django.urls import include, re_path
from django.views.decorators.csrf import csrf_exempt

from ragsite.api.views import api_not_found

urlpatterns = [
    re_path(r"", include("knowledge.api.urls")),
    re_path(r"", include("chat.api.urls")),
    re_path(r"", include("agents.api.urls")),
    # Must stay last: everything else under /api/v1 is an unknown route.
    re_path(r"^(?P<path>.*)$", csrf_exempt(api_not_found)),
]
