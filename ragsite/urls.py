from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static as static_url
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from ragsite.api import health


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on pages without a <link rel="icon"> (admin, JSON, errors);
    the icon itself is a static file, served wherever static files are."""
    return HttpResponseRedirect(static_url("favicon.ico"))


urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", include("ragsite.api.urls")),
    # RAGFlow's older health route, outside /api (v0.27 keeps it as an alias).
    re_path(r"^v1/system/healthz/?$", health.healthz),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("ragsite.accounts.urls")),
    path("chats/", include("chat.urls")),
    path("agents/", include("agents.urls")),
    path("search/", include("chat.search_urls")),
    path("memory/", include("agents.memory_urls")),
    path("", include("ragsite.accounts.page_urls")),
    path("", include("knowledge.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
