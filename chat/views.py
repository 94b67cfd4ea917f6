"""HTML views for chat assistants: the list, their settings, and the chat page with its sessions.

Asking happens over the websocket (chat/consumers.py); these views create, rename and delete
sessions and render stored conversations, citations included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count, F, Func, IntegerField, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from chat.forms import ChatForm
from chat.llm.registry import BUILTIN_EXTRACTIVE, chat_model_choices
from chat.models import Chat, ChatSession
from chat.selectors import chat_get_owned, session_get, session_list
from chat.selectors import chat_list as chats_of
from chat.services.assistants import chat_create, chat_delete, chat_update
from chat.services.citations import CITATION
from chat.services.sessions import (
    SessionChanges,
    messages_with_references,
    session_create,
    session_delete,
    session_update,
)
from knowledge.models import Dataset
from knowledge.selectors import datasets_visible_to
from knowledge.views.preview import chunk_preview_url
from ragsite.accounts.models import User
from ragsite.api.errors import ServiceError
from ragsite.http import HtmxHttpRequest, login_required
from ragsite.markdown import Cite, circled, render_markdown

# How completion_events records an answer that failed (chat/services/completions.py).
ERROR_PREFIX = "**ERROR**: "


# --- helpers ----------------------------------------------------------------------------------


def _chat_or_404(request: HtmxHttpRequest, chat_id: str) -> Chat:
    # Another user's assistant, or a deleted one, is simply "not found".
    chat = chat_get_owned(request.user, chat_id)
    if chat is None:
        raise Http404
    return chat


def _sessions(chat: Chat) -> QuerySet[ChatSession]:
    """The sidebar's sessions, last used first, without loading every message."""
    return (
        session_list(chat=chat, orderby="update_time", desc=True)
        .defer("messages", "references")
        .annotate(
            message_count=Func(
                F("messages"), function="jsonb_array_length", output_field=IntegerField()
            )
        )
    )


def _session_or_404(chat: Chat, session_id: str) -> ChatSession:
    session = session_get(chat, session_id)
    if session is None:
        raise Http404
    return session


def _is_current(request: HtmxHttpRequest, chat: Chat, session: ChatSession) -> bool:
    """Whether the HTMX request comes from `session`'s own page."""
    current = (request.htmx.current_url_abs_path or "").split("?", 1)[0]
    return current == reverse("chat:session_detail", args=[chat.pk, session.pk])


def _visible_datasets(user: User) -> list[Dataset]:
    return list(datasets_visible_to(user).select_related("tenant").order_by("name"))


@dataclass(frozen=True)
class ModelInfo:
    id: str
    label: str
    extractive: bool
    available: bool


def _model_info(model_id: str, labels: dict[str, str]) -> ModelInfo:
    return ModelInfo(
        id=model_id,
        label=labels.get(model_id, model_id),
        extractive=model_id == BUILTIN_EXTRACTIVE,
        available=model_id in labels,
    )


# --- messages as the page shows them -----------------------------------------------------------


@dataclass(frozen=True)
class Citation:
    index: int  # the chunk's position in the answer's reference, as in [ID:n]
    number: int  # from 1, in the order the answer first cites the chunks
    document_name: str
    content: SafeString  # the passage, rendered
    download_url: str
    preview_url: str = ""  # the chunk in the document preview

    @property
    def circled(self) -> str:
        return circled(self.number)


@dataclass(frozen=True)
class AnswerExtras:
    """What an answer offers below it: feedback, delete, a mind map, related questions."""

    message_id: str
    question: str
    feedback_url: str
    delete_url: str
    mindmap_url: str
    related_url: str
    thumbup: bool | None = None
    feedback: str = ""
    show_related: bool = False  # the last answer only


def answer_extras(
    chat_id: str,
    session_id: str,
    message: dict[str, Any],
    question: str,
    *,
    last: bool,
) -> AnswerExtras:
    message_id = str(message.get("id") or "")
    asked = urlencode({"question": question})
    session_args = [chat_id, session_id]
    thumbup = message.get("thumbup")
    return AnswerExtras(
        message_id=message_id,
        question=question,
        feedback_url=reverse("chat:message_feedback", args=[*session_args, message_id]),
        delete_url=reverse("chat:delete_message", args=[*session_args, message_id]),
        mindmap_url=f"{reverse('chat:mind_map', args=session_args)}?{asked}",
        related_url=f"{reverse('chat:related_questions', args=session_args)}?{asked}",
        thumbup=thumbup if isinstance(thumbup, bool) else None,
        feedback=str(message.get("feedback") or ""),
        show_related=last,
    )


@dataclass
class MessageView:
    role: str
    text: str = ""  # questions and errors: plain text
    html: SafeString | None = None  # answers: rendered Markdown with citation buttons
    error: bool = False
    citations: list[Citation] = field(default_factory=list)
    documents: list[tuple[str, str]] = field(default_factory=list)  # (name, url), uncited
    extras: AnswerExtras | None = None


def _download_url(chunk: dict[str, Any]) -> str:
    if not chunk.get("dataset_id") or not chunk.get("document_id"):
        return ""
    return reverse("knowledge:download_document", args=[chunk["dataset_id"], chunk["document_id"]])


def _answer_view(content: str, chunks: list[dict[str, Any]], number: int | str) -> MessageView:
    """An answer as message `number` shows it: its [ID:n] markers numbered ①②③ as first cited.

    A marker without its chunk is dropped.
    """
    cited: list[int] = []
    for match in CITATION.finditer(content):
        index = int(match.group(1))
        if index < len(chunks) and index not in cited:
            cited.append(index)
    cites = {
        str(index): Cite(
            number=position,
            controls=f"message-{number}-cite-{index}",
            label=_("Source %(n)s") % {"n": position},
        )
        for position, index in enumerate(cited, start=1)
    }
    citations = [
        Citation(
            index=index,
            number=position,
            document_name=str(chunks[index].get("document_name") or ""),
            content=render_markdown(str(chunks[index].get("content") or "")),
            download_url=_download_url(chunks[index]),
            preview_url=chunk_preview_url(chunks[index]),
        )
        for position, index in enumerate(cited, start=1)
    ]
    documents: list[tuple[str, str]] = []
    if not citations:
        # Quotes off (or nothing cited): still say where the answer came from.
        seen: set[str] = set()
        for chunk in chunks:
            name = str(chunk.get("document_name") or "")
            if name and name not in seen:
                seen.add(name)
                documents.append((name, _download_url(chunk)))
    return MessageView(
        "assistant",
        html=render_markdown(content, markers=CITATION, cites=cites),
        citations=citations,
        documents=documents,
    )


def answer_item_html(
    answer: str, reference: Any, number: str, extras: AnswerExtras | None = None
) -> str:
    """The <li> of a streamed answer once it is complete, as a reload would show it."""
    chunks = reference.get("chunks") if isinstance(reference, dict) else None
    view = _answer_view(answer, list(chunks or []), number)
    view.extras = extras
    return render_to_string("chat/_message.html", {"message": view, "number": number}).strip()


def message_views(session: ChatSession) -> list[MessageView]:
    """The stored conversation: opener first, then each question and its cited answer."""
    views: list[MessageView] = []
    stored = messages_with_references(session)
    last_answer = max(
        (i for i, m in enumerate(stored) if m.get("role") == "assistant" and m.get("id")),
        default=-1,
    )
    question = ""
    for index, message in enumerate(stored):
        content = str(message.get("content") or "")
        number = len(views) + 1  # as the template's forloop.counter
        if message.get("role") == "user":
            question = content
            views.append(MessageView("user", text=content))
            continue
        extras = (
            answer_extras(session.chat_id, session.pk, message, question, last=index == last_answer)
            if message.get("id")
            else None
        )
        if content.startswith(ERROR_PREFIX):
            text = content[len(ERROR_PREFIX) :]
            views.append(MessageView("assistant", text=text, error=True, extras=extras))
        elif content:
            view = _answer_view(content, list(message.get("reference") or []), number)
            view.extras = extras
            views.append(view)
    return views


# --- the assistants ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatCard:
    chat: Chat
    model: ModelInfo
    datasets: list[str]
    session_count: int


def _cards(user: User, chats: Iterable[Chat]) -> list[ChatCard]:
    labels = dict(chat_model_choices())
    rows = list(chats)
    wanted = {str(i) for chat in rows for i in chat.dataset_ids}
    names = dict(datasets_visible_to(user).filter(pk__in=wanted).values_list("pk", "name"))
    return [
        ChatCard(
            chat=chat,
            model=_model_info(chat.llm_id, labels),
            # A deleted (or no longer shared) dataset drops out of the chat.
            datasets=[names[i] for i in chat.dataset_ids if i in names],
            session_count=chat.session_count,  # type: ignore[attr-defined]
        )
        for chat in rows
    ]


@login_required
@require_http_methods(["GET"])
def chat_list(request: HtmxHttpRequest) -> HttpResponse:
    """The user's assistants as cards."""
    chats = chats_of(tenant=request.user).annotate(session_count=Count("sessions"))
    return render(request, "chat/chat_list.html", {"cards": _cards(request.user, chats)})


def _settings_page(
    request: HtmxHttpRequest, form: ChatForm, chat: Chat | None = None
) -> HttpResponse:
    context = {"form": form, "chat": chat, "extractive_id": BUILTIN_EXTRACTIVE}
    return render(request, "chat/chat_settings.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def create_chat(request: HtmxHttpRequest) -> HttpResponse:
    """A new assistant; once created, the user lands on its chat page."""
    datasets = _visible_datasets(request.user)
    if request.method == "GET":
        return _settings_page(request, ChatForm(user=request.user, datasets=datasets))
    form = ChatForm(request.POST, user=request.user, datasets=datasets)
    if form.is_valid():
        try:
            chat = chat_create(tenant=request.user, changes=form.to_changes())
        except ServiceError as exc:
            form.add_service_error(exc.message)
        else:
            messages.success(request, _("Assistant “%(name)s” created.") % {"name": chat.name})
            return redirect("chat:chat_detail", chat.pk)
    return _settings_page(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def chat_settings(request: HtmxHttpRequest, chat_id: str) -> HttpResponse:
    """Edit an assistant."""
    chat = _chat_or_404(request, chat_id)
    datasets = _visible_datasets(request.user)
    if request.method == "GET":
        return _settings_page(
            request, ChatForm.for_chat(chat, user=request.user, datasets=datasets), chat
        )
    form = ChatForm.for_chat(chat, request.POST, user=request.user, datasets=datasets)
    if form.is_valid():
        try:
            chat = chat_update(tenant=request.user, chat_id=chat.pk, changes=form.to_changes())
        except ServiceError as exc:
            form.add_service_error(exc.message)
        else:
            messages.success(request, _("Assistant “%(name)s” saved.") % {"name": chat.name})
            return redirect("chat:chat_detail", chat.pk)
    return _settings_page(request, form, chat)


@login_required
@require_http_methods(["POST"])
def delete_chat(request: HtmxHttpRequest, chat_id: str) -> HttpResponse:
    """Delete an assistant with its sessions (RAGFlow soft-deletes it)."""
    chat = _chat_or_404(request, chat_id)
    chat_delete(tenant=request.user, ids=[chat.pk])
    done = _("Assistant “%(name)s” deleted.") % {"name": chat.name}
    list_url = reverse("chat:chat_list")
    if request.htmx and (request.htmx.current_url_abs_path or "").split("?", 1)[0] == list_url:
        # Empty 200: the card's hx-swap="delete" removes it.
        return HttpResponse()
    messages.success(request, done)
    if request.htmx:
        return HttpResponseClientRedirect(list_url)
    return redirect(list_url)


# --- the chat page and its sessions ------------------------------------------------------------


def _chat_page(request: HtmxHttpRequest, chat: Chat, session: ChatSession | None) -> HttpResponse:
    labels = dict(chat_model_choices())
    wanted = [str(i) for i in chat.dataset_ids]
    names = dict(datasets_visible_to(request.user).filter(pk__in=wanted).values_list("pk", "name"))
    context = {
        "chat": chat,
        "model": _model_info(chat.llm_id, labels),
        "datasets": [names[i] for i in wanted if i in names],
        "sessions": _sessions(chat),
        "session": session,
        "conversation": message_views(session) if session else [],
        "socket_path": (
            f"/ws/chat/{chat.pk}/sessions/{session.pk}/" if session is not None else ""
        ),
    }
    return render(request, "chat/chat_detail.html", context)


@login_required
@require_http_methods(["GET"])
def chat_detail(request: HtmxHttpRequest, chat_id: str) -> HttpResponse:
    """The last used session, or an invitation to start one."""
    chat = _chat_or_404(request, chat_id)
    latest = session_list(chat=chat, orderby="update_time", desc=True).only("pk").first()
    if latest is not None:
        return redirect("chat:session_detail", chat.pk, latest.pk)
    return _chat_page(request, chat, None)


@login_required
@require_http_methods(["GET"])
def session_detail(request: HtmxHttpRequest, chat_id: str, session_id: str) -> HttpResponse:
    """One conversation, restored from the session, with the question box."""
    chat = _chat_or_404(request, chat_id)
    return _chat_page(request, chat, _session_or_404(chat, session_id))


@login_required
@require_http_methods(["POST"])
def create_session(request: HtmxHttpRequest, chat_id: str) -> HttpResponse:
    """Start a conversation (it begins with the assistant's opener) and open it."""
    chat = _chat_or_404(request, chat_id)
    session = session_create(chat=chat, name=_("New session"))
    url = reverse("chat:session_detail", args=[chat.pk, session.pk])
    # A new session needs a new websocket: always a full page.
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _session_item(
    request: HtmxHttpRequest, chat: Chat, session: ChatSession, *, current: bool, **extra: Any
) -> HttpResponse:
    session = _sessions(chat).get(pk=session.pk)
    context = {"chat": chat, "item": session, "current_id": session.pk if current else "", **extra}
    return render(request, "chat/_session_item.html", context)


@login_required
@require_http_methods(["GET"])
def session_item(request: HtmxHttpRequest, chat_id: str, session_id: str) -> HttpResponse:
    """One sidebar entry, read-only: what "Cancel" swaps back in place of the rename form."""
    chat = _chat_or_404(request, chat_id)
    session = _session_or_404(chat, session_id)
    return _session_item(request, chat, session, current=_is_current(request, chat, session))


@login_required
@require_http_methods(["GET", "POST"])
def rename_session(request: HtmxHttpRequest, chat_id: str, session_id: str) -> HttpResponse:
    """Rename a session in the sidebar (HTMX) or on its own small page."""
    chat = _chat_or_404(request, chat_id)
    session = _session_or_404(chat, session_id)
    current = bool(request.htmx) and _is_current(request, chat, session)
    name = request.POST.get("name", session.name)
    error = ""
    if request.method == "POST":
        try:
            session = session_update(
                chat=chat, session_id=session.pk, changes=SessionChanges(name=name)
            )
        except ServiceError:
            error = _("Give the session a name.")
        else:
            if not request.htmx:
                return redirect("chat:session_detail", chat.pk, session.pk)
            # The heading above the conversation follows along when it is this session's.
            return _session_item(request, chat, session, current=current, renamed=current)
    context = {"chat": chat, "item": session, "name": name, "error": error}
    if request.htmx:
        return render(request, "chat/_session_rename.html", context)
    return render(request, "chat/session_rename.html", context)


@login_required
@require_http_methods(["POST"])
def delete_session(request: HtmxHttpRequest, chat_id: str, session_id: str) -> HttpResponse:
    """Delete a session; HTMX removes its sidebar entry, or leaves the page that showed it."""
    chat = _chat_or_404(request, chat_id)
    session = _session_or_404(chat, session_id)
    current = bool(request.htmx) and _is_current(request, chat, session)
    session_delete(chat=chat, ids=[session.pk])
    if request.htmx and not current:
        # Empty 200: the entry's hx-swap="delete" removes it.
        return HttpResponse()
    url = reverse("chat:chat_detail", args=[chat.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
