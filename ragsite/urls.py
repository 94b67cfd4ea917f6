from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path

from ragsite.api import health

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", include("ragsite.api.urls")),
    # RAGFlow's older health route, outside /api (v0.27 keeps it as an alias).
    re_path(r"^v1/system/healthz/?$", health.healthz),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("ragsite.accounts.urls")),
    path("chats/", include("chat.urls")),
    path("agents/", include("agents.urls")),
    path("", include("ragsite.accounts.page_urls")),
    path("", include("knowledge.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
