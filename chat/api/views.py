"""/api/v1/chats and /api/v1/chats/{id}/sessions: thin DRF views over chat services.

Both RAGFlow generations are served (contract §5–§6 and v0.27 §2.5–§2.6): bodies in either
generation's names (chat/api/schemas.py), objects in both at once (chat/api/serializers.py).
Where identical requests need different answers (G1 list container, G5 bulk delete without
`delete_all`, G8 defaults), the request's generation decides (ragsite.api.generation).
"""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response

from chat.api.schemas import chat_in, query_ids, session_in
from chat.api.serializers import chat_out, datasets_of, session_out
from chat.api.wording import ChatApiView
from chat.selectors import (
    chat_get_owned_or_raise,
    chat_list,
    session_list,
    session_of_chat_or_raise,
)
from chat.services import assistants, sessions
from chat.services.assistants import Deletion
from ragsite.api.auth import ApiRequest
from ragsite.api.envelope import ok, ok_with_message
from ragsite.api.errors import DataError
from ragsite.api.generation import V0_27, is_v027
from ragsite.api.parsing import (
    bulk_delete_ids,
    json_body,
    lenient_int,
    page_bounds,
    query_bool_only_false,
)


def _page(params: Any, *, v027: bool) -> slice:
    """`page`/`page_size` as a slice. G8: page_size 0 is an empty page in v0.22, 30 in v0.27."""
    page = lenient_int(params.get("page"), 1, name="page")
    size = lenient_int(params.get("page_size"), 30, name="page_size")
    if v027 and size < 1:
        size = 30
    start, end = page_bounds(page, size)
    return slice(start, end)


def _delete_ids(request: ApiRequest, body: dict[str, Any]) -> list[str] | None:
    """The ids a bulk delete names (None: all). G5: `ids` null without `delete_all` deletes
    everything for v0.22 and nothing for v0.27."""
    ids = bulk_delete_ids(body)
    if ids is None and "delete_all" not in body and is_v027(request):
        return []
    return None if ids is None else [str(i) for i in ids]


def _deletion_reply(
    result: Deletion, *, asked: bool, v027: bool, texts: tuple[str, str], success: Any
) -> Response:
    """RAGFlow's bulk-delete answer: all refused → error; some → counts and errors.

    `texts`: the per-id messages for a duplicate and for a missing id, with `{}` for the id.
    """
    duplicate, missing = texts
    errors = [
        (duplicate if kind == "duplicate" else missing).format(item)
        for kind, item in result.problems
    ]
    if errors and not result.deleted:
        raise DataError("; ".join(errors))
    if errors:
        return Response(ok({"success_count": result.deleted, "errors": errors}))
    if not v027:
        return Response()
    if not asked:  # nothing named and no delete_all: v0.27 answers an empty object
        return Response(ok_with_message({}))
    return Response(ok_with_message(success))


CHAT_DELETE_TEXTS = {
    False: ("Duplicate assistant ids: {}", "Assistant({}) not found."),
    True: ("Duplicate chat ids: {}", "Chat({}) not found."),
}
SESSION_DELETE_TEXTS = ("Duplicate session ids: {}", "The chat doesn't own the session {}")


class ChatsApi(ChatApiView):
    def post(self, request: ApiRequest) -> Response:
        changes = chat_in(json_body(request, short=("name",))).changes(creating=True)
        return Response(chat_out(assistants.chat_create(tenant=request.user, changes=changes)))

    def get(self, request: ApiRequest) -> Response:
        params = request.query_params
        # G1: only v0.27 clients send `keywords` or `owner_ids`.
        self.signal = V0_27 if "keywords" in params or "owner_ids" in params else None
        v027 = is_v027(request, signal=self.signal)
        chat_id, name = params.get("id") or None, params.get("name") or None
        chats = chat_list(
            tenant=request.user,
            chat_id=chat_id,
            name=name,
            keywords=params.get("keywords") or None,
            owner_ids=query_ids(params, "owner_ids"),
            orderby=params.get("orderby") or "create_time",
            desc=query_bool_only_false(params.get("desc")),
        )
        if (chat_id or name) and not v027 and not chats.exists():
            raise DataError("The chat doesn't exist")  # G8: v0.27 answers an empty list
        page = list(chats[_page(params, v027=v027)])
        datasets = datasets_of(page)
        items = [chat_out(chat, datasets) for chat in page]
        return Response({"chats": items, "total": chats.count()} if v027 else items)

    def delete(self, request: ApiRequest) -> Response:
        body = json_body(request)
        v027 = is_v027(request, signal=V0_27 if "delete_all" in body else None)
        if "chat_id" in body and "ids" not in body and "delete_all" not in body:
            # The older v0.27 body {"chat_id": x}: that one chat.
            ids: list[str] | None = [str(body["chat_id"])]
            success: Any = True
        else:
            ids = _delete_ids(request, body)
            success = None
        result = assistants.chat_delete(tenant=request.user, ids=ids)
        if success is None:
            success = {"success_count": result.deleted}
        return _deletion_reply(
            result,
            asked=ids is None or bool(ids),
            v027=v027,
            texts=CHAT_DELETE_TEXTS[v027],
            success=success,
        )


class ChatApi(ChatApiView):
    def get(self, request: ApiRequest, chat_id: str) -> Response:
        self.signal = V0_27  # a v0.27 route
        return Response(chat_out(chat_get_owned_or_raise(request.user, chat_id)))

    def put(self, request: ApiRequest, chat_id: str) -> Response:
        # R1: v0.22 and v0.27 bodies alike; the chat is returned (ragflow-sdk 0.22 ignores it).
        changes = chat_in(json_body(request, short=("name",))).changes()
        chat = assistants.chat_update(tenant=request.user, chat_id=chat_id, changes=changes)
        return Response(chat_out(chat))

    def patch(self, request: ApiRequest, chat_id: str) -> Response:
        self.signal = V0_27
        changes = chat_in(json_body(request, short=("name",))).changes(patch=True)
        chat = assistants.chat_update(tenant=request.user, chat_id=chat_id, changes=changes)
        return Response(chat_out(chat))

    def delete(self, request: ApiRequest, chat_id: str) -> Response:
        self.signal = V0_27
        chat = chat_get_owned_or_raise(request.user, chat_id)
        assistants.chat_delete(tenant=request.user, ids=[chat.pk])
        return Response(True)


class SessionsApi(ChatApiView):
    def post(self, request: ApiRequest, chat_id: str) -> Response:
        body = session_in(json_body(request, short=("name", "user_id")))
        chat = chat_get_owned_or_raise(
            request.user, chat_id, message="You do not own the assistant."
        )
        user_id = body.given_user_id()
        if user_id is None:  # v0.27 records the caller's tenant
            user_id = request.user.pk if is_v027(request) else ""
        session = sessions.session_create(chat=chat, name=body.create_name(), user_id=user_id)
        return Response(session_out(session, with_references=False))

    def get(self, request: ApiRequest, chat_id: str) -> Response:
        chat = chat_get_owned_or_raise(
            request.user, chat_id, message=f"You don't own the assistant {chat_id}."
        )
        params = request.query_params
        found = session_list(
            chat=chat,
            session_id=params.get("id") or None,
            name=params.get("name") or None,
            user_id=params.get("user_id") or None,
            orderby=params.get("orderby") or "create_time",
            desc=query_bool_only_false(params.get("desc")),
        )
        page = found[_page(params, v027=is_v027(request))]
        return Response([session_out(s) for s in page])

    def delete(self, request: ApiRequest, chat_id: str) -> Response:
        body = json_body(request)
        self.signal = V0_27 if "delete_all" in body else None
        chat = chat_get_owned_or_raise(request.user, chat_id, message="You don't own the chat")
        ids = _delete_ids(request, body)
        result = sessions.session_delete(chat=chat, ids=ids)
        return _deletion_reply(
            result,
            asked=ids is None or bool(ids),
            v027=is_v027(request, signal=self.signal),
            texts=SESSION_DELETE_TEXTS,
            success=True,
        )


class SessionApi(ChatApiView):
    def get(self, request: ApiRequest, chat_id: str, session_id: str) -> Response:
        self.signal = V0_27
        chat = chat_get_owned_or_raise(request.user, chat_id)
        session = session_of_chat_or_raise(chat, session_id)
        return Response(session_out(session, avatar=chat.avatar))

    def put(self, request: ApiRequest, chat_id: str, session_id: str) -> Response:
        body = session_in(json_body(request, short=("name", "user_id")), updating=True)
        chat = chat_get_owned_or_raise(request.user, chat_id, message="You do not own the session")
        session = sessions.session_update(
            chat=chat, session_id=session_id, changes=body.changes(patch=False)
        )
        return Response(session_out(session))

    def patch(self, request: ApiRequest, chat_id: str, session_id: str) -> Response:
        self.signal = V0_27
        body = session_in(json_body(request, short=("name",)), updating=True)
        chat = chat_get_owned_or_raise(request.user, chat_id)
        session = sessions.session_update(
            chat=chat, session_id=session_id, changes=body.changes(patch=True)
        )
        return Response(session_out(session))
