from django.urls import re_path

from agents.api import memories, streams, views

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
    # Memories (v0.27): `messages/search` before `messages/<memory_id>:<message_id>`.
    re_path(r"^memories/?$", memories.MemoriesApi.as_view()),
    re_path(r"^memories/(?P<memory_id>[^/]+)/config/?$", memories.MemoryConfigApi.as_view()),
    re_path(r"^memories/(?P<memory_id>[^/]+)/?$", memories.MemoryApi.as_view()),
    re_path(r"^messages/?$", memories.MessagesApi.as_view()),
    re_path(r"^messages/search/?$", memories.MessageSearchApi.as_view()),
    re_path(
        r"^messages/(?P<memory_id>[^/:]+):(?P<message_id>\d{1,18})/content/?$",
        memories.MessageContentApi.as_view(),
    ),
    re_path(
        r"^messages/(?P<memory_id>[^/:]+):(?P<message_id>\d{1,18})/?$",
        memories.MessageApi.as_view(),
    ),
]
