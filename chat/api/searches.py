"""/api/v1/searches: search apps (RAGFlow v0.27, contract §3.8), thin over chat services.

POST /searches/{id}/completions streams as RAGFlow's `async_ask` does: one event per new piece
of the summary (`{"answer": <delta>, "reference": {}, "final": false}`), then
`{"answer": "", "reference": {chunks, doc_aggs, total}, "final": true}`, then `data: true`;
a failure after the first byte is one code-500 event before `data: true`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.api.schemas import query_ids
from chat.api.serializers import search_out
from chat.selectors import search_get_or_raise, search_list
from chat.services.answering import ChatContext, answer_stream
from chat.services.completions import checked_question
from chat.services.searches import search_create, search_delete, search_prepare, search_update
from ragsite.accounts.models import User
from ragsite.api.async_views import async_api_view
from ragsite.api.auth import ApiRequest
from ragsite.api.envelope import ok_with_message
from ragsite.api.errors import ArgumentError
from ragsite.api.exceptions import public_message
from ragsite.api.parsing import json_body, lenient_int, page_bounds, query_bool_only_false
from ragsite.api.streaming import event_stream, sse

TERMINATOR = {"code": 0, "message": "", "data": True}
_NO_REFERENCE: dict[str, Any] = {"chunks": [], "doc_aggs": [], "total": 0}


def required(body: dict[str, Any], *names: str) -> None:
    """RAGFlow's `validate_request`: 101 naming every missing key."""
    missing = [name for name in names if name not in body]
    if missing:
        raise ArgumentError(f"required argument are missing: {','.join(missing)}; ")


def _int_or(value: str | None, default: int) -> int:
    try:
        return lenient_int(value, default)
    except ArgumentError:
        return default


class SearchesApi(APIView):
    def post(self, request: ApiRequest) -> Response:
        body = json_body(request)
        required(body, "name")
        app = search_create(
            tenant=request.user,
            name=body["name"],
            description=body.get("description", ""),
            avatar=body.get("avatar", ""),
            search_config=body.get("search_config"),
        )
        return Response(ok_with_message({"search_id": app.pk}))

    def get(self, request: ApiRequest) -> Response:
        params = request.query_params
        # v0.27: an unparsable or too small page is 1, page size 30.
        page, size = _int_or(params.get("page"), 1), _int_or(params.get("page_size"), 30)
        start, end = page_bounds(max(page, 1), size if size >= 1 else 30)
        apps = search_list(
            tenant=request.user,
            keywords=params.get("keywords") or "",
            owner_ids=query_ids(params, "owner_ids"),
            orderby=params.get("orderby") or "create_time",
            desc=query_bool_only_false(params.get("desc")),
        ).select_related("tenant")
        items = [search_out(app, listing=True) for app in apps[start:end]]
        return Response(ok_with_message({"search_apps": items, "total": apps.count()}))


class SearchApi(APIView):
    def get(self, request: ApiRequest, search_id: str) -> Response:
        return Response(ok_with_message(search_out(search_get_or_raise(request.user, search_id))))

    def put(self, request: ApiRequest, search_id: str) -> Response:
        body = json_body(request)
        required(body, "name", "search_config")
        app = search_update(
            tenant=request.user,
            search_id=search_id,
            name=body["name"],
            search_config=body["search_config"],
            description=body.get("description"),
            avatar=body.get("avatar"),
        )
        return Response(ok_with_message(search_out(app)))

    def delete(self, request: ApiRequest, search_id: str) -> Response:
        search_delete(tenant=request.user, search_id=search_id)
        return Response(ok_with_message(True))


def error_event(message: str) -> dict[str, Any]:
    return {
        "code": 500,
        "message": message,
        "data": {"answer": f"**ERROR**: {message}", "reference": []},
    }


async def search_events(
    ctx: ChatContext,
    question: str,
    extra: dict[str, Any],
    *,
    render: Callable[[str], str] | None = None,
) -> AsyncIterator[bytes]:
    """A search's summary as RAGFlow's SSE (see the module docstring).

    `render` (the Search page's own stream, not the API's) turns the whole summary into HTML,
    sent as `html` in the final event.
    """
    written: list[str] = []
    try:
        async for event in answer_stream(ctx, question=question, history=[], extra=extra):
            if event.error is not None:
                yield sse(error_event(event.error))
                break
            if not event.final:
                if event.delta:
                    written.append(event.delta)
                    data = {"answer": event.delta, "reference": {}, "final": False}
                    yield sse({"code": 0, "message": "", "data": data})
                continue
            if not written and event.answer:
                written.append(event.answer)
                data = {"answer": event.answer, "reference": {}, "final": False}
                yield sse({"code": 0, "message": "", "data": data})
            reference = event.reference if event.reference.get("chunks") else _NO_REFERENCE
            final = {"answer": "", "reference": reference, "final": True}
            if render is not None:
                final["html"] = render("".join(written))
            yield sse({"code": 0, "message": "", "data": final})
    except Exception as exc:  # noqa: BLE001 - after the first byte, errors must be events
        yield sse(error_event(public_message(exc)))
    yield sse(TERMINATOR)


@async_api_view("POST")
async def search_completions(request: HttpRequest, user: User, search_id: str) -> HttpResponseBase:
    body = json_body(request)
    required(body, "question")
    question = body["question"]
    if not isinstance(question, str):
        raise ArgumentError("`question` should be a string.")
    checked_question(question)
    ctx, extra = await sync_to_async(search_prepare)(
        tenant=user, search_id=search_id, kb_ids=body.get("kb_ids")
    )
    return event_stream(search_events(ctx, question, extra))
