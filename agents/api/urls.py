from django.urls import re_path

from agents.api import streams, views

# Static segments before parameterised siblings: Django ignores the method, and
# `agents/<agent_id>/…` would otherwise capture `agents/chat/…` (contract v0.27 §1.4).
urlpatterns = [
    re_path(r"^agents/?$", views.AgentsApi.as_view()),
    re_path(r"^agents/chat/completions?/?$", streams.agent_chat_completions),
    re_path(r"^agents/(?P<agent_id>[^/]+)/?$", views.AgentApi.as_view()),
    re_path(r"^agents/(?P<agent_id>[^/]+)/sessions/?$", views.AgentSessionsApi.as_view()),
    re_path(
        r"^agents/(?P<agent_id>[^/]+)/sessions/(?P<session_id>[^/]+)/?$",
        views.AgentSessionApi.as_view(),
    ),
    re_path(r"^agents/(?P<agent_id>[^/]+)/completions/?$", streams.agent_completions),
    re_path(
        r"^agents_openai/(?P<agent_id>[^/]+)/chat/completions/?$",
        streams.agent_openai_completions,
    ),
]
