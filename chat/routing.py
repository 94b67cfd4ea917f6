"""Websocket routes of the chat app, included by ragsite.routing."""

from __future__ import annotations

from django.urls import path

from chat.consumers import ChatConsumer

websocket_urlpatterns = [
    path(
        "ws/chat/<str:chat_id>/sessions/<str:session_id>/",
        ChatConsumer.as_asgi(),
        name="chat_socket",
    ),
]
