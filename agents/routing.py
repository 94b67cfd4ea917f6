"""Websocket routes of the agents app, included by ragsite.routing."""

from __future__ import annotations

from django.urls import path

from agents.consumers import AgentConsumer

websocket_urlpatterns = [
    path(
        "ws/agents/<str:agent_id>/sessions/<str:session_id>/",
        AgentConsumer.as_asgi(),
        name="agent_socket",
    ),
]
