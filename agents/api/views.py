"""/api/v1/agents and agent sessions: thin DRF views over agents.services (contract §8.1–§8.3)."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import APIView

from agents.models import Agent, AgentSession
from agents.services import agents as services
from chat.services.sessions import REFERENCE_KEYS
from ragsite.api.auth import ApiRequest
from ragsite.api.envelope import ok, ok_with_message
from ragsite.api.errors import DataError
from ragsite.api.formats import epoch_ms, rfc1123
from ragsite.api.parsing import (
    bulk_delete_ids,
    check_lengths,
    json_body,
    paging,
    query_bool_only_false,
)


def _times(obj: Agent | AgentSession) -> dict[str, Any]:
    return {
        "create_time": epoch_ms(obj.created_at),
        "create_date": rfc1123(obj.created_at),
        "update_time": epoch_ms(obj.updated_at),
        "update_date": rfc1123(obj.updated_at),
    }


def agent_out(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.pk,
        "title": agent.title,
        "description": agent.description,
        "avatar": agent.avatar,
        "canvas_type": agent.canvas_type,
        "canvas_category": "agent_canvas",
        "permission": "me",
        "user_id": agent.tenant_id,
        "dsl": agent.dsl,
        **_times(agent),
    }


def messages_with_references(session: AgentSession) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    answers = 0
    for index, message in enumerate(session.messages):
        item = {k: v for k, v in message.items() if k != "prompt"}
        if message.get("role") == "assistant" and index > 0:
            reference = session.references[answers] if answers < len(session.references) else {}
            chunks = (reference or {}).get("chunks") or {}
            values = chunks.values() if isinstance(chunks, dict) else chunks
            item["reference"] = [{k: c.get(k) for k in REFERENCE_KEYS} for c in values]
            answers += 1
        out.append(item)
    return out


def session_list_out(session: AgentSession, *, with_dsl: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": session.pk,
        "agent_id": session.agent_key,
        "user_id": session.user_id,
        "source": "agent",
        "messages": messages_with_references(session),
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


class AgentsApi(APIView):
    def get(self, request: ApiRequest) -> Response:
        params = request.query_params
        agents = services.agent_list(
            tenant=request.user,
            agent_id=params.get("id") or None,
            title=params.get("title") or None,
            orderby=params.get("orderby") or "update_time",
            desc=query_bool_only_false(params.get("desc")),
        )
        start, end = paging(params)
        return Response([agent_out(a) for a in agents[start:end]])

    def post(self, request: ApiRequest) -> Response:
        services.agent_create(
            tenant=request.user, body=json_body(request, short=("title", "canvas_type"))
        )
        # RAGFlow answers `data: true` without the id; clients find it with list_agents(title=…).
        return Response(ok_with_message(True))


class AgentApi(APIView):
    def put(self, request: ApiRequest, agent_id: str) -> Response:
        services.agent_update(
            tenant=request.user,
            agent_id=agent_id,
            body=json_body(request, short=("title", "canvas_type")),
        )
        return Response(ok_with_message(True))

    def delete(self, request: ApiRequest, agent_id: str) -> Response:
        services.agent_delete(tenant=request.user, agent_id=agent_id)
        return Response(ok_with_message(True))


class AgentSessionsApi(APIView):
    def post(self, request: ApiRequest, agent_id: str) -> Response:
        agent = services.agent_for_session(request.user, agent_id)
        check_lengths(request.query_params, "user_id")
        user_id = request.query_params.get("user_id") or request.user.pk
        session = services.session_create(agent=agent, user_id=user_id, inputs=json_body(request))
        data = {
            "id": session.pk,
            "agent_id": agent.pk,
            "user_id": session.user_id,
            "message": session.messages,
            "source": "agent",
            "dsl": session.dsl,
        }
        return Response(ok(data))

    def get(self, request: ApiRequest, agent_id: str) -> Response:
        if not Agent.objects.filter(pk=agent_id, tenant=request.user).exists():
            raise DataError(f"You don't own the agent {agent_id}.")
        params = request.query_params
        sessions = services.sessions_of(
            agent_id=agent_id,
            tenant=request.user,
            session_id=params.get("id") or None,
            user_id=params.get("user_id") or None,
            orderby=params.get("orderby") or "update_time",
            desc=query_bool_only_false(params.get("desc")),
        )
        start, end = paging(params)
        with_dsl = query_bool_only_false(params.get("dsl"))
        return Response([session_list_out(s, with_dsl=with_dsl) for s in sessions[start:end]])

    def delete(self, request: ApiRequest, agent_id: str) -> Response:
        if not Agent.objects.filter(pk=agent_id, tenant=request.user).exists():
            raise DataError(f"You don't own the agent {agent_id}")
        ids = bulk_delete_ids(json_body(request))
        deleted, errors = services.session_delete(agent_id=agent_id, tenant=request.user, ids=ids)
        if errors and not deleted:
            raise DataError("; ".join(errors))
        if errors:
            return Response(ok({"success_count": deleted, "errors": errors}))
        return Response()
