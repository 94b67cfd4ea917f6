"""/favicon.ico and the page icon resolve to real images instead of a 404 (issue 16)."""

from __future__ import annotations

import io
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles.views import serve
from django.test import Client, RequestFactory
from PIL import Image

pytestmark = pytest.mark.django_db


def fetch_static(url: str) -> bytes:
    """The bytes Daphne's static handler (ASGIStaticFilesHandler) answers for `url`."""
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    assert url.startswith(prefix), url
    response = serve(RequestFactory().get(url), url.removeprefix(prefix), insecure=True)
    assert response.status_code == 200
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_favicon_ico_leads_to_an_icon_file(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert "max-age=86400" in response["Cache-Control"]
    icon = Image.open(io.BytesIO(fetch_static(response["Location"])))
    assert icon.format == "ICO"
    assert {(16, 16), (32, 32)} <= icon.info["sizes"]


def test_favicon_refuses_writes(client: Client) -> None:
    assert client.post("/favicon.ico").status_code == 405


def test_pages_link_an_svg_icon_that_exists(client: Client) -> None:
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    match = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page.text)
    assert match, "the page links no icon"
    assert fetch_static(match.group(1)).startswith(b"<svg")
