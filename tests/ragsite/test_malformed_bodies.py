"""Bodies the request parsers reject before a view runs (a multipart body without parts, with
no boundary, cut short, or with a form where JSON was expected) still answer in the envelope,
on every route that takes a body, and change nothing."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from ragsite.accounts.models import User
from tests.conftest import ApiClient
from tests.ragsite.test_fuzz import ROUTES, _ids
from tests.world import World

pytestmark = pytest.mark.django_db

# (Content-Type, body)
SHAPES: list[tuple[str, bytes]] = [
    ("multipart/form-data; boundary=x", b"--x--"),
    ("multipart/form-data; boundary=x", b""),
    ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--"),
    ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="file"'),
    ("multipart/form-data; boundary=x", b"\x00\xff garbage \r\n--x\r\n\r\n"),
    ("multipart/form-data; boundary=" + "b" * 100, b"--x--"),
    ("application/x-www-form-urlencoded", b"%%%=&&=%zz"),
    ("application/json", b"--x--"),
    ("text/plain", b"\xff\xfe\x00"),
]

BODY_ROUTES = sorted(
    {(m, p) for m, p in ROUTES if m in ("post", "put", "patch", "delete")}
    | {("post", "/api/v1/datasets/{ds}/documents")}
)


@pytest.fixture
def world(tenant: User) -> World:
    return World(tenant)


def _send(api: ApiClient, method: str, path: str, content_type: str, body: bytes) -> Any:
    return getattr(api.client, method)(
        path, data=body, content_type=content_type, headers=api.headers
    )


@pytest.mark.parametrize(("method", "template"), BODY_ROUTES)
def test_every_malformed_body_answers_in_the_envelope(
    api: ApiClient, world: World, method: str, template: str
) -> None:
    ids = _ids(world)
    path = template.format(**ids)
    before = world.counts()
    for content_type, body in SHAPES:
        response = _send(api, method, path, content_type, body)
        shape = (content_type, body[:30])
        assert response.status_code < 500, shape
        kind = response.get("Content-Type", "")
        if kind.startswith("text/event-stream"):
            # An accepted question (an empty body asks nothing in particular); a stream's
            # errors are events, whose shape test_fuzz covers.
            before = world.counts()
            continue
        assert kind.startswith("application/json"), (shape, response.status_code, kind)
        envelope = json.loads(response.content)
        assert isinstance(envelope.get("code"), int), (shape, envelope)
        if envelope["code"] == 0:
            before = world.counts()  # e.g. an empty body: a session with the defaults
        else:
            assert envelope["message"], (shape, envelope)
            assert world.counts() == before, (shape, envelope)


@pytest.mark.django_db(transaction=True)
def test_through_daphne_a_multipart_body_twisted_cannot_parse_gets_the_envelope(
    live_server_url: str, tenant: User, api_key: str
) -> None:
    # Daphne's Twisted request parsed multipart bodies itself and answered `--x--` with a bare
    # 400 and no body before Django ran; the test client never goes through Twisted.
    world = World(tenant)
    before = world.counts()
    url = urlsplit(live_server_url)
    for method, template in BODY_ROUTES:
        path = template.format(**_ids(world))
        for content_type, body in SHAPES[:4]:
            connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=60)
            try:
                connection.request(
                    method.upper(),
                    path,
                    body=body,
                    headers={"Authorization": f"Bearer {api_key}", "Content-Type": content_type},
                )
                response = connection.getresponse()
                raw = response.read()
            finally:
                connection.close()
            shape = (method, path, content_type, body[:20])
            assert response.status == 200, (shape, response.status, raw[:200])
            kind = response.getheader("Content-Type") or ""
            if kind.startswith("text/event-stream"):
                before = world.counts()
                continue
            assert kind.startswith("application/json"), (shape, kind, raw[:200])
            envelope = json.loads(raw)
            if envelope["code"] == 0:
                before = world.counts()
            else:
                assert envelope["message"], (shape, envelope)
                assert world.counts() == before, (shape, envelope)
