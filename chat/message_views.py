"""The chat page's answer extras: thumbs up or down (with a reason), deleting a question and its
answer, related questions and the mind map (chat/services/extras.py does the work)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from chat.models import Chat, ChatSession
from chat.services import extras
from chat.views import _chat_or_404, _session_or_404, answer_extras, message_views
from ragsite.api.errors import ServiceError
from ragsite.http import HtmxHttpRequest, login_required


def _answer(session: ChatSession, message_id: str) -> tuple[dict[str, Any], str] | None:
    """The stored answer `message_id` and the question it answers."""
    question = ""
    for message in session.messages:
        if message.get("role") == "user":
            question = str(message.get("content") or "")
        elif message.get("id") == message_id:
            return message, question
    return None


def _back(chat: Chat, session: ChatSession) -> HttpResponse:
    return redirect("chat:session_detail", chat.pk, session.pk)


@login_required
@require_http_methods(["POST"])
def message_feedback(
    request: HtmxHttpRequest, chat_id: str, session_id: str, message_id: str
) -> HttpResponse:
    """👍 or 👎 (with an optional reason) on an answer; HTMX gets the feedback box back."""
    chat = _chat_or_404(request, chat_id)
    session = _session_or_404(chat, session_id)
    thumbup = request.POST.get("thumbup")
    if thumbup not in ("1", "0"):
        return HttpResponse(_("Choose thumbs up or thumbs down."), status=400)
    try:
        session = extras.message_feedback(
            tenant=request.user,
            chat_id=chat.pk,
            session_id=session.pk,
            msg_id=message_id,
            thumbup=thumbup == "1",
            feedback=request.POST.get("feedback", "").strip(),
        )
    except ServiceError as exc:
        return HttpResponse(exc.message, status=400)
    if not request.htmx:
        return _back(chat, session)
    found = _answer(session, message_id)
    if found is None:
        return HttpResponse(status=404)
    message, question = found
    view = answer_extras(chat.pk, session.pk, message, question, last=False)
    return render(request, "chat/_message_feedback.html", {"extras": view})


@login_required
@require_http_methods(["POST"])
def delete_message(
    request: HtmxHttpRequest, chat_id: str, session_id: str, message_id: str
) -> HttpResponse:
    """Delete a question and its answer; HTMX gets the conversation back."""
    chat = _chat_or_404(request, chat_id)
    session = _session_or_404(chat, session_id)
    session = extras.message_delete(
        tenant=request.user, chat_id=chat.pk, session_id=session.pk, msg_id=message_id
    )
    if not request.htmx:
        return _back(chat, session)
    return render(request, "chat/_message_items.html", {"conversation": message_views(session)})


@login_required
@require_http_methods(["GET"])
def related_questions(request: HtmxHttpRequest, chat_id: str, session_id: str) -> HttpResponse:
    """Questions to ask next, as buttons; nothing when there are none to suggest."""
    chat = _chat_or_404(request, chat_id)
    _session_or_404(chat, session_id)
    question = request.GET.get("question", "").strip()
    if not question:
        return HttpResponse()
    try:
        scope = extras.suggestion_scope_for_chat(request.user, chat.pk)
        related = async_to_sync(extras.related_questions)(scope, question)
    except ServiceError:
        # The built-in model without knowledge bases, or a model that failed: no suggestions.
        return HttpResponse()
    if not related:
        return HttpResponse()
    return render(request, "chat/_related.html", {"related": related})


@login_required
@require_http_methods(["GET"])
def mind_map(request: HtmxHttpRequest, chat_id: str, session_id: str) -> HttpResponse:
    """The mind map of what the assistant's knowledge bases say about the question."""
    chat = _chat_or_404(request, chat_id)
    _session_or_404(chat, session_id)
    question = request.GET.get("question", "").strip()
    error = ""
    tree: dict[str, Any] | None = None
    try:
        scope = extras.suggestion_scope_for_chat(request.user, chat.pk)
        if not scope.dataset_ids:
            error = _("This assistant has no knowledge bases to draw a mind map from.")
        elif question:
            tree = async_to_sync(extras.mind_map)(scope, question)
    except ServiceError as exc:
        error = exc.message
    return render(request, "chat/_mindmap.html", {"tree": tree, "error": error})
