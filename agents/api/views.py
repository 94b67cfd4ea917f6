"""/api/v1/agents and agent sessions, both RAGFlow generations: thin DRF views over
agents.selectors and agents.services (contract §8.1–§8.3; v0.27 §2.9).

Where ragflow-sdk 0.22 and 0.27 send identical requests that need different answers (GET
/agents, the success data of POST/PUT /agents, a bulk delete without `delete_all`), the
generation comes from ragsite.api.generation; the error texts follow it too (§2.10).
"""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import APIView

from agents.api.schemas import (
    V022_LIST_KEYS,
    V027_LIST_KEYS,
    AgentCreateIn,
    AgentListQuery,
    AgentSessionCreateIn,
    AgentSessionListQuery,
    AgentUpdateIn,
    list_bounds,
)
from agents.models import Agent, AgentSession
from agents.selectors import (
    AgentFilters,
    AgentNotFound,
    ErrorFactory,
    agent_get_owned_or_raise,
    agent_list,
    agent_session_get_or_raise,
    agent_session_list,
)
from agents.services import agents as services
from chat.services.sessions import REFERENCE_KEYS
from ragsite.api.auth import ApiRequest
from ragsite.api.envelope import Envelope, ok, ok_with_message
from ragsite.api.errors import DataError, OperatingError
from ragsite.api.formats import epoch_ms, rfc1123
from ragsite.api.generation import V0_22, V0_27, is_v027
from ragsite.api.parsing import bulk_delete_ids, json_body, query_bool_only_false

NO_ACCESS = "Make sure you have permission to access the agent."


def _no_access() -> OperatingError:
    return OperatingError(NO_ACCESS, data=False)


def _not_yours(agent_id: str, *, dot: bool = True) -> ErrorFactory:
    return lambda: DataError(f"You don't own the agent {agent_id}{'.' if dot else ''}")


# --- output -----------------------------------------------------------------------------------


def _times(obj: Agent | AgentSession) -> dict[str, Any]:
    return {
        "create_time": epoch_ms(obj.created_at),
        "create_date": rfc1123(obj.created_at),
        "update_time": epoch_ms(obj.updated_at),
        "update_date": rfc1123(obj.updated_at),
    }


def agent_out(agent: Agent) -> dict[str, Any]:
    """The v0.22 full row (contract §8.1)."""
    return {
        "id": agent.pk,
        "title": agent.title,
        "description": agent.description,
        "avatar": agent.avatar,
        "canvas_type": agent.canvas_type,
        "canvas_category": agent.canvas_category,
        "permission": "me",
        "user_id": agent.tenant_id,
        "dsl": agent.dsl,
        **_times(agent),
    }


def agent_v027_out(agent: Agent) -> dict[str, Any]:
    """The full row plus v0.27's list and detail keys (§2.9); agents are never shared here."""
    return {
        **agent_out(agent),
        "tenant_id": agent.tenant_id,
        "nickname": agent.tenant.get_username(),
        "tenant_avatar": None,
        "tags": [],
        "type": "agent",
        "last_publish_time": epoch_ms(agent.published_at),
    }


def _reference_list(reference: Any) -> list[dict[str, Any]]:
    chunks = (reference or {}).get("chunks") or {} if isinstance(reference, dict) else {}
    values = chunks.values() if isinstance(chunks, dict) else chunks
    return [{k: c.get(k) for k in REFERENCE_KEYS} for c in values if isinstance(c, dict)]


def messages_with_references(session: AgentSession) -> list[dict[str, Any]]:
    """The messages without prompts; each answer after the prologue with its `reference`."""
    out: list[dict[str, Any]] = []
    answers = 0
    for index, message in enumerate(session.messages):
        item = {k: v for k, v in message.items() if k != "prompt"}
        if message.get("role") == "assistant" and index > 0:
            references = session.references
            item["reference"] = _reference_list(
                references[answers] if answers < len(references) else None
            )
            answers += 1
        out.append(item)
    return out


def session_list_out(session: AgentSession, *, with_dsl: bool) -> dict[str, Any]:
    messages = messages_with_references(session)
    out: dict[str, Any] = {
        "id": session.pk,
        "name": session.name,
        "agent_id": session.agent_key,
        "user_id": session.user_id,
        "exp_user_id": session.user_id,
        "source": "agent",
        # v0.22 lists `messages`, v0.27 `message` (R4): both.
        "messages": messages,
        "message": messages,
        "tokens": 0,
        "duration": session.duration,
        "round": session.round,
        "thumb_up": 0,
        "errors": session.errors,
        **_times(session),
    }
    if with_dsl:
        out["dsl"] = session.dsl
    return out


def session_created_out(session: AgentSession) -> dict[str, Any]:
    """POST /agents/{id}/sessions: v0.22's `message` and v0.27's `messages` (R4)."""
    return {
        "id": session.pk,
        "name": session.name,
        "agent_id": session.agent_key,
        "user_id": session.user_id,
        "exp_user_id": session.user_id,
        "message": session.messages,
        "messages": session.messages,
        "source": "agent",
        "dsl": session.dsl,
        "version_title": None,
    }


def session_row_out(session: AgentSession) -> dict[str, Any]:
    """GET /agents/{id}/sessions/{sid}: the stored row, `dialog_id` naming the agent (§2.9)."""
    return {
        "id": session.pk,
        "dialog_id": session.agent_key,
        "agent_id": session.agent_key,
        "name": session.name,
        "user_id": session.user_id,
        "exp_user_id": session.user_id,
        "source": "agent",
        "message": session.messages,
        "messages": session.messages,
        "reference": session.references,
        "dsl": session.dsl,
        "round": session.round,
        "duration": session.duration,
        "errors": session.errors,
        "tokens": 0,
        "thumb_up": 0,
        "version_title": None,
        **_times(session),
    }


# --- agents -----------------------------------------------------------------------------------


def _list_signal(params: Any) -> str | None:
    """G2: `id`/`title` only ragflow-sdk 0.22 sends; the v0.27 filters only 0.27 clients."""
    if any(params.get(key) for key in V022_LIST_KEYS):
        return V0_22
    if any(key in params for key in V027_LIST_KEYS):
        return V0_27
    return None


class AgentsApi(APIView):
    def get(self, request: ApiRequest) -> Response:
        params = request.query_params
        query = AgentListQuery.from_query(params)
        desc = query_bool_only_false(query.desc)
        if not is_v027(request, signal=_list_signal(params)):
            filters = query.filters()
            agents = agent_list(
                tenant=request.user,
                filters=filters,
                orderby=query.orderby or "update_time",
                desc=desc,
            )
            if (filters.agent_id or filters.title) and not agents.exists():
                raise DataError("The agent doesn't exist.")
            start, end = list_bounds(query.page, query.page_size, v027=False)
            return Response([agent_out(a) for a in agents[start:end]])
        if any(owner != request.user.pk for owner in query.owner_id_list):
            raise OperatingError("Only authorized owner_ids can be queried.", data=False)
        filters = query.filters()
        # v0.27 ignores the exact id/title filters of v0.22 (contract §1.3).
        filters = AgentFilters(
            keywords=filters.keywords,
            canvas_categories=filters.canvas_categories,
            canvas_type=filters.canvas_type,
            tags=filters.tags,
        )
        agents = agent_list(
            tenant=request.user, filters=filters, orderby=query.orderby or "create_time", desc=desc
        ).select_related("tenant")
        start, end = list_bounds(query.page, query.page_size, v027=True)
        canvas = [agent_v027_out(a) for a in agents[start:end]]
        return Response(ok_with_message({"canvas": canvas, "total": agents.count()}))

    def post(self, request: ApiRequest) -> Response:
        values = AgentCreateIn.from_body(json_body(request, short=("title", "canvas_type")))
        v027 = is_v027(request)
        try:
            agent = services.agent_create(
                tenant=request.user,
                title=values.title,
                dsl=values.dsl,
                description=values.description,
                avatar=values.avatar,
                canvas_type=values.canvas_type,
                canvas_category=values.canvas_category,
                release=values.release,
            )
        except services.AgentTitleTaken as exc:
            if v027:
                raise DataError(f"{exc.title} already exists.") from exc
            raise
        # G7: v0.22 answers `true` (clients find the id with list_agents(title=…)).
        return Response(ok_with_message(agent_v027_out(agent) if v027 else True))


class AgentApi(APIView):
    def get(self, request: ApiRequest, agent_id: str) -> Response:
        agent = agent_get_owned_or_raise(
            request.user, agent_id, error=lambda: DataError("canvas not found.")
        )
        return Response(ok_with_message(agent_v027_out(agent)))

    def put(self, request: ApiRequest, agent_id: str) -> Response:
        values = AgentUpdateIn.from_body(json_body(request, short=("title", "canvas_type")))
        v027 = is_v027(request)
        try:
            agent = services.agent_update(
                tenant=request.user, agent_id=agent_id, changes=values.changes()
            )
        except services.AgentOwnerOnly as exc:
            if v027:
                raise _no_access() from exc
            raise
        except services.AgentTitleTaken as exc:
            if v027:
                raise DataError(f"{exc.title} already exists.") from exc
            raise
        # G7
        return Response(
            ok_with_message({"update_time": epoch_ms(agent.updated_at)} if v027 else True)
        )

    def delete(self, request: ApiRequest, agent_id: str) -> Response:
        try:
            services.agent_delete(tenant=request.user, agent_id=agent_id)
        except services.AgentOwnerOnly as exc:
            if is_v027(request):
                raise OperatingError(
                    "Only the owner of the agent is authorized for this operation.", data=False
                ) from exc
            raise
        return Response(ok_with_message(True))


# --- sessions ---------------------------------------------------------------------------------


class AgentSessionsApi(APIView):
    def post(self, request: ApiRequest, agent_id: str) -> Response:
        missing = _no_access if is_v027(request) else AgentNotFound
        agent = agent_get_owned_or_raise(request.user, agent_id, error=missing)
        values = AgentSessionCreateIn.from_request(json_body(request), request.query_params)
        session = services.session_create(
            agent=agent,
            user_id=values.user_id or request.user.pk,
            name=values.name,
            inputs=values.inputs,
        )
        return Response(ok(session_created_out(session)))

    def get(self, request: ApiRequest, agent_id: str) -> Response:
        missing = _no_access if is_v027(request) else _not_yours(agent_id)
        agent_get_owned_or_raise(request.user, agent_id, error=missing)
        query = AgentSessionListQuery.from_query(request.query_params)
        sessions = agent_session_list(
            tenant=request.user,
            agent_id=agent_id,
            filters=query.filters(),
            orderby=query.orderby or "update_time",
            desc=query_bool_only_false(query.desc),
        )
        start, end = list_bounds(query.page, query.page_size, v027=is_v027(request))
        items = [session_list_out(s, with_dsl=query.with_dsl) for s in sessions[start:end]]
        # The list stays in `data` for both SDKs; v0.27 adds the total beside it.
        return Response(Envelope(data=items, message="success", extra={"total": sessions.count()}))

    def delete(self, request: ApiRequest, agent_id: str) -> Response:
        agent_get_owned_or_raise(request.user, agent_id, error=_not_yours(agent_id, dot=False))
        body = json_body(request)
        v027 = is_v027(request, signal=V0_27 if "delete_all" in body else None)
        ids = bulk_delete_ids(body)
        if ids is None and "delete_all" not in body and v027:
            ids = []  # G5: v0.27 deletes everything only on `delete_all: true`
        sessions = agent_session_list(tenant=request.user, agent_id=agent_id)
        if not v027 and not sessions.exists():
            raise DataError(f"Agent {agent_id} has no sessions")
        deleted, errors = services.session_delete(
            agent_id=agent_id,
            tenant=request.user,
            ids=None if ids is None else [str(i) for i in ids],
        )
        if errors and not deleted:
            raise DataError("; ".join(errors))
        if errors:
            return Response(ok({"success_count": deleted, "errors": errors}))
        return Response()


class AgentSessionApi(APIView):
    """GET and DELETE one session (v0.27 routes)."""

    def get(self, request: ApiRequest, agent_id: str, session_id: str) -> Response:
        agent_get_owned_or_raise(request.user, agent_id, error=_no_access)
        session = agent_session_get_or_raise(request.user, agent_id, session_id)
        return Response(ok_with_message(session_row_out(session)))

    def delete(self, request: ApiRequest, agent_id: str, session_id: str) -> Response:
        agent_get_owned_or_raise(request.user, agent_id, error=_no_access)
        deleted = services.session_delete_one(
            tenant=request.user, agent_id=agent_id, session_id=session_id
        )
        return Response(ok_with_message(deleted))
