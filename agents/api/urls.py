from django.urls import re_path

from agents.api import streams, views

urlpatterns = [
    re_path(r"^agents/?$", views.AgentsApi.as_view()),
    re_path(r"^agents/(?P<agent_id>[^/]+)/?$", views.AgentApi.as_view()),
    re_path(r"^agents/(?P<agent_id>[^/]+)/sessions/?$", views.AgentSessionsApi.as_view()),
    re_path(r"^agents/(?P<agent_id>[^/]+)/completions/?$", streams.agent_completions),
    re_path(
        r"^agents_openai/(?P<agent_id>[^/]+)/chat/completions/?$",
        streams.agent_openai_completions,
    ),
]
