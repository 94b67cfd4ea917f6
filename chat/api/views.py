"""/api/v1/chats and /api/v1/chats/{id}/sessions: thin DRF views over chat services (§5–§6.2)."""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from chat.api.serializers import chat_list_out, chat_out, session_out
from chat.services import assistants, sessions
from knowledge.models import Dataset
from ragsite.api.auth import ApiRequest
from ragsite.api.envelope import ok
from ragsite.api.errors import DataError
from ragsite.api.parsing import bulk_delete_ids, json_body, paging, query_bool_only_false


def _partial_reply(done: int, errors: list[str], *, joiner: str = "; ") -> Response:
    if errors and not done:
        raise DataError(joiner.join(errors))
    if errors:
        return Response(ok({"success_count": done, "errors": errors}))
    return Response()


class ChatsApi(APIView):
    def post(self, request: ApiRequest) -> Response:
        chat = assistants.chat_create(tenant=request.user, body=json_body(request, short=("name",)))
        return Response(chat_out(chat))

    def get(self, request: ApiRequest) -> Response:
        params = request.query_params
        chats = assistants.chat_list(
            tenant=request.user,
            chat_id=params.get("id") or None,
            name=params.get("name") or None,
            orderby=params.get("orderby") or "create_time",
            desc=query_bool_only_false(params.get("desc")),
        )
        start, end = paging(params)
        page = list(chats[start:end])
        wanted = {i for chat in page for i in chat.dataset_ids}
        datasets = {d.pk: d for d in Dataset.objects.filter(pk__in=wanted)}
        return Response([chat_list_out(chat, datasets) for chat in page])

    def delete(self, request: ApiRequest) -> Response:
        ids = bulk_delete_ids(json_body(request))
        return _partial_reply(*assistants.chat_delete(tenant=request.user, ids=ids))


class ChatApi(APIView):
    def put(self, request: ApiRequest, chat_id: str) -> Response:
        assistants.chat_update(
            tenant=request.user, chat_id=chat_id, body=json_body(request, short=("name",))
        )
        return Response()


class SessionsApi(APIView):
    def post(self, request: ApiRequest, chat_id: str) -> Response:
        body = json_body(request, short=("name", "user_id"))
        chat = sessions.live_chat(request.user, chat_id)
        if chat is None:
            raise DataError("You do not own the assistant.")
        session = sessions.session_create(
            chat=chat, name=body.get("name", "New session"), user_id=body.get("user_id", "")
        )
        return Response(session_out(session))

    def get(self, request: ApiRequest, chat_id: str) -> Response:
        chat = sessions.live_chat(request.user, chat_id)
        if chat is None:
            raise DataError(f"You don't own the assistant {chat_id}.")
        params = request.query_params
        found = sessions.session_list(
            chat=chat,
            session_id=params.get("id") or None,
            name=params.get("name") or None,
            user_id=params.get("user_id") or None,
            orderby=params.get("orderby") or "create_time",
            desc=query_bool_only_false(params.get("desc")),
        )
        start, end = paging(params)
        return Response([session_out(s, with_references=True) for s in found[start:end]])

    def delete(self, request: ApiRequest, chat_id: str) -> Response:
        chat = sessions.live_chat(request.user, chat_id)
        if chat is None:
            raise DataError("You don't own the chat")
        ids = bulk_delete_ids(json_body(request))
        return _partial_reply(*sessions.session_delete(chat=chat, ids=ids))


class SessionApi(APIView):
    def put(self, request: ApiRequest, chat_id: str, session_id: str) -> Response:
        chat = sessions.live_chat(request.user, chat_id)
        if chat is None:
            raise DataError("You do not own the session")
        sessions.session_update(
            chat=chat, session_id=session_id, body=json_body(request, short=("name", "user_id"))
        )
        return Response()
