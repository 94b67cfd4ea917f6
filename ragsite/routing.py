"""Websocket routes; each app adds its consumers here as it gains live features."""

from __future__ import annotations

from typing import Any

from agents.routing import websocket_urlpatterns as agents_websocket_urlpatterns
from chat.routing import websocket_urlpatterns as chat_websocket_urlpatterns

websocket_urlpatterns: list[Any] = [*chat_websocket_urlpatterns, *agents_websocket_urlpatterns]
