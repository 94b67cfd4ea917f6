from django.urls import re_path

from chat.api import extras, searches, streams, views

urlpatterns = [
    re_path(r"^chats/?$", views.ChatsApi.as_view()),
    re_path(r"^chats/(?P<chat_id>[^/]+)/?$", views.ChatApi.as_view()),
    re_path(r"^chats/(?P<chat_id>[^/]+)/sessions/?$", views.SessionsApi.as_view()),
    re_path(
        r"^chats/(?P<chat_id>[^/]+)/sessions/(?P<session_id>[^/]+)/?$", views.SessionApi.as_view()
    ),
    re_path(
        r"^chats/(?P<chat_id>[^/]+)/sessions/(?P<session_id>[^/]+)/messages/(?P<msg_id>[^/]+)/?$",
        extras.MessageApi.as_view(),
    ),
    re_path(
        r"^chats/(?P<chat_id>[^/]+)/sessions/(?P<session_id>[^/]+)/messages/(?P<msg_id>[^/]+)"
        r"/feedback/?$",
        extras.FeedbackApi.as_view(),
    ),
    re_path(r"^chats/(?P<chat_id>[^/]+)/completions/?$", streams.chat_completions),
    re_path(
        r"^chats_openai/(?P<chat_id>[^/]+)/chat/completions/?$", streams.openai_chat_completions
    ),
    # RAGFlow v0.27
    re_path(r"^chat/completions/?$", streams.unified_chat_completions),
    re_path(
        r"^openai/(?P<chat_id>[^/]+)/chat/completions/?$", streams.openai_v027_chat_completions
    ),
    re_path(r"^chat/recomm[ae]ndation/?$", extras.recommendation),
    re_path(r"^sessions/related_questions/?$", extras.related_questions_legacy),
    re_path(r"^chat/mindmap/?$", extras.mindmap),
    re_path(r"^chat/audio/speech/?$", extras.SpeechApi.as_view()),
    re_path(r"^chat/audio/transcription/?$", extras.TranscriptionApi.as_view()),
    re_path(r"^searches/?$", searches.SearchesApi.as_view()),
    re_path(r"^searches/(?P<search_id>[^/]+)/?$", searches.SearchApi.as_view()),
    re_path(r"^searches/(?P<search_id>[^/]+)/completions?/?$", searches.search_completions),
]
