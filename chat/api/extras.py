"""RAGFlow v0.27's chat extras (contract §3.7): message delete and feedback, related
questions, the mind map, and the audio routes (no speech provider: a clear 102)."""

from __future__ import annotations

import os
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.api.searches import required
from chat.api.serializers import session_out
from chat.services import extras
from chat.services.completions import checked_question
from ragsite.accounts.models import User
from ragsite.api.async_views import async_api_view
from ragsite.api.auth import ApiRequest
from ragsite.api.envelope import ok, ok_with_message
from ragsite.api.errors import ArgumentError, DataError
from ragsite.api.generation import is_v027
from ragsite.api.parsing import json_body

AUDIO_SUFFIXES = (".aac", ".flac", ".m4a", ".mp3", ".ogg", ".opus", ".wav", ".webm", ".wma")
NO_TTS = (
    "No default TTS model is set: ragsite has no text-to-speech provider configured, so it "
    "cannot read answers aloud."
)
NO_ASR = (
    "No default ASR model is set: ragsite has no speech-to-text provider configured, so it "
    "cannot transcribe audio."
)


class MessageApi(APIView):
    def delete(self, request: ApiRequest, chat_id: str, session_id: str, msg_id: str) -> Response:
        session = extras.message_delete(
            tenant=request.user, chat_id=chat_id, session_id=session_id, msg_id=msg_id
        )
        return Response(ok_with_message(session_out(session)))


class FeedbackApi(APIView):
    def put(self, request: ApiRequest, chat_id: str, session_id: str, msg_id: str) -> Response:
        body = json_body(request)
        session = extras.message_feedback(
            tenant=request.user,
            chat_id=chat_id,
            session_id=session_id,
            msg_id=msg_id,
            thumbup=body.get("thumbup"),
            feedback=body.get("feedback", ""),
        )
        return Response(ok_with_message(session_out(session)))


def _question(body: dict[str, Any]) -> str:
    question = body["question"]
    if not isinstance(question, str):
        raise ArgumentError("`question` should be a string.")
    return checked_question(question)


def _json(envelope: Any) -> JsonResponse:
    return JsonResponse(envelope.as_dict(), json_dumps_params={"ensure_ascii": False})


@async_api_view("POST")
async def recommendation(request: HttpRequest, user: User) -> HttpResponseBase:
    """POST /chat/recommendation (and the docs' spelling /chat/recommandation)."""
    body = json_body(request)
    required(body, "question")
    question = _question(body)
    scope = await sync_to_async(extras.suggest_scope)(
        tenant=user, search_id=body.get("search_id") or "", kb_ids=body.get("kb_ids")
    )
    return _json(ok_with_message(await extras.related_questions(scope, question)))


@async_api_view("POST")
async def related_questions_legacy(request: HttpRequest, user: User) -> HttpResponseBase:
    """POST /sessions/related_questions: v0.22's search terms (with `industry`)."""
    body = json_body(request)
    v027 = is_v027(request)
    if not body.get("question"):
        if v027:
            required({}, "question")
        raise DataError("`question` is required.")
    question = _question(body)
    industry = body.get("industry") or ""
    if not isinstance(industry, str):
        raise ArgumentError("`industry` should be a string.")
    scope = await sync_to_async(extras.suggest_scope)(
        tenant=user, search_id=body.get("search_id") or "", kb_ids=body.get("kb_ids")
    )
    terms = await extras.related_questions(scope, question, industry=industry)
    return _json(ok_with_message(terms) if v027 else ok(terms))


@async_api_view("POST")
async def mindmap(request: HttpRequest, user: User) -> HttpResponseBase:
    body = json_body(request)
    required(body, "question", "kb_ids")
    question = _question(body)
    scope = await sync_to_async(extras.suggest_scope)(
        tenant=user, search_id=body.get("search_id") or "", kb_ids=body["kb_ids"]
    )
    return _json(ok_with_message(await extras.mind_map(scope, question)))


class SpeechApi(APIView):
    def post(self, request: ApiRequest) -> Response:
        body = json_body(request)
        if not isinstance(body.get("text"), str):
            required(body, "text")
            raise ArgumentError("`text` should be a string.")
        raise DataError(NO_TTS)


class TranscriptionApi(APIView):
    parser_classes = (MultiPartParser, FormParser, JSONParser)

    def post(self, request: ApiRequest) -> Response:
        uploaded = request.FILES.get("file")
        if uploaded is None:
            raise DataError("Missing 'file' in multipart form-data")
        suffix = os.path.splitext(uploaded.name or "")[-1].lower()
        if suffix not in AUDIO_SUFFIXES:
            raise DataError(
                f"Unsupported audio format: {suffix}. Allowed: {', '.join(AUDIO_SUFFIXES)}"
            )
        raise DataError(NO_ASR)
