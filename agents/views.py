"""HTML views for agents: the list, creating one (from a template or a pasted DSL), editing it
with a diagram of its components, and the conversation page with its sessions.

Asking happens over the websocket (agents/consumers.py); these views create and delete sessions
and render stored conversations, citations included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from agents import selectors
from agents.forms import TEMPLATE_FORMS, AgentForm, DslForm, parse_dsl_text
from agents.models import Agent, AgentSession
from agents.runtime import DslError, validate_dsl
from agents.runtime.dsl import component_type, id_list, successors
from agents.selectors import (
    agent_get_owned_or_raise,
    agent_session_get_or_raise,
    agent_session_list,
)
from agents.services import agents as services
from agents.templates_library import TEMPLATES
from chat.services.citations import CITATION
from knowledge.models import Dataset
from knowledge.selectors import datasets_visible_to
from knowledge.views.preview import chunk_preview_url
from ragsite.accounts.models import User
from ragsite.api.errors import ServiceError
from ragsite.http import HtmxHttpRequest, login_required
from ragsite.markdown import Cite, circled, render_markdown

# How run_events records a turn that failed (agents/services/runs.py).
ERROR_MARKER = "**ERROR**: "
SESSION_NAME_CHARS = 60


# --- helpers ----------------------------------------------------------------------------------


def _agent_or_404(request: HtmxHttpRequest, agent_id: str) -> Agent:
    # Another user's agent is simply "not found".
    return agent_get_owned_or_raise(request.user, agent_id, error=Http404)


def _sessions(request: HtmxHttpRequest, agent: Agent) -> QuerySet[AgentSession]:
    return agent_session_list(tenant=request.user, agent_id=agent.pk)


def _session_or_404(request: HtmxHttpRequest, agent: Agent, session_id: str) -> AgentSession:
    return agent_session_get_or_raise(request.user, agent.pk, session_id, error=Http404)


def _is_current(request: HtmxHttpRequest, agent: Agent, session: AgentSession) -> bool:
    """Whether the HTMX request comes from `session`'s own page."""
    current = (request.htmx.current_url_abs_path or "").split("?", 1)[0]
    return current == reverse("agents:session_detail", args=[agent.pk, session.pk])


def _visible_datasets(user: User) -> list[Dataset]:
    return list(datasets_visible_to(user).select_related("tenant").order_by("name"))


# --- the list -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentCard:
    agent: Agent
    component_count: int
    session_count: int


def _cards(agents: Iterable[Agent]) -> list[AgentCard]:
    return [
        AgentCard(
            agent=agent,
            component_count=len((agent.dsl or {}).get("components") or {}),
            session_count=agent.session_count,  # type: ignore[attr-defined]
        )
        for agent in agents
    ]


@login_required
@require_http_methods(["GET"])
def agent_list(request: HtmxHttpRequest) -> HttpResponse:
    """The user's agents as cards, last changed first."""
    agents = selectors.agent_list(tenant=request.user, orderby="update_time", desc=True)
    agents = agents.annotate(session_count=Count("sessions"))
    return render(request, "agents/agent_list.html", {"cards": _cards(agents)})


# --- creating -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def create_agent(request: HtmxHttpRequest) -> HttpResponse:
    """Choose how to start: one of the templates, or a DSL pasted as JSON."""
    return render(request, "agents/agent_create.html", {"templates": TEMPLATES.values()})


def _create(request: HtmxHttpRequest, form: AgentForm) -> Agent | None:
    """The agent the valid form describes, or None with the service's refusal on the form."""
    if not form.is_valid():
        return None
    try:
        return services.agent_create(
            tenant=request.user,
            title=form.cleaned_data["title"],
            description=form.cleaned_data["description"],
            dsl=form.build_dsl(),
        )
    except ServiceError as exc:
        form.add_service_error(exc.message)
        return None


def _created(request: HtmxHttpRequest, agent: Agent) -> HttpResponse:
    messages.success(request, _("Agent “%(title)s” created.") % {"title": agent.title})
    return redirect("agents:agent_detail", agent.pk)


@login_required
@require_http_methods(["GET", "POST"])
def create_from_template(request: HtmxHttpRequest, template: str) -> HttpResponse:
    """A template's form: its answers become the DSL, and the agent opens once created."""
    form_class = TEMPLATE_FORMS.get(template)
    if form_class is None:
        raise Http404
    datasets = _visible_datasets(request.user)
    data = request.POST if request.method == "POST" else None
    form = form_class(data, user=request.user, datasets=datasets)
    if data is not None and (agent := _create(request, form)) is not None:
        return _created(request, agent)
    context = {"form": form, "template": TEMPLATES[template]}
    return render(request, f"agents/template_{template}.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def import_agent(request: HtmxHttpRequest) -> HttpResponse:
    """An agent from a pasted DSL; what is wrong with it shows next to the JSON."""
    form = DslForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and (agent := _create(request, form)) is not None:
        return _created(request, agent)
    return render(request, "agents/agent_import.html", {"form": form})


@login_required
@require_http_methods(["POST"])
def check_dsl(request: HtmxHttpRequest) -> HttpResponse:
    """Validate the DSL in the textarea and draw it, without saving anything."""
    error = ""
    diagram = None
    try:
        dsl = validate_dsl(parse_dsl_text(request.POST.get("dsl", "")))
    except DslError as exc:
        error = f"Invalid DSL: {exc.message}"  # the service's wording, naming the component
    except ValidationError as exc:  # the JSON itself is broken
        error = " ".join(exc.messages)
    else:
        diagram = diagram_of(dsl)
    return render(request, "agents/_dsl_check.html", {"error": error, "diagram": diagram})


# --- editing ------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def edit_agent(request: HtmxHttpRequest, agent_id: str) -> HttpResponse:
    """Title, description and the DSL as JSON, with a diagram of the saved components."""
    agent = _agent_or_404(request, agent_id)
    diagram = diagram_of(agent.dsl)
    form = DslForm.for_agent(
        agent, request.POST if request.method == "POST" else None, dsl=in_graph_order(agent.dsl)
    )
    if request.method == "POST" and form.is_valid():
        try:
            agent = services.agent_update(
                tenant=request.user, agent_id=agent.pk, changes=form.changes()
            )
        except ServiceError as exc:
            form.add_service_error(exc.message)
        else:
            messages.success(request, _("Agent “%(title)s” saved.") % {"title": agent.title})
            return redirect("agents:edit_agent", agent.pk)
    context = {"agent": agent, "form": form, "diagram": diagram}
    return render(request, "agents/agent_edit.html", context)


@login_required
@require_http_methods(["POST"])
def delete_agent(request: HtmxHttpRequest, agent_id: str) -> HttpResponse:
    """Delete an agent. Its sessions stay, as in RAGFlow, but no page shows them any more."""
    agent = _agent_or_404(request, agent_id)
    services.agent_delete(tenant=request.user, agent_id=agent.pk)
    list_url = reverse("agents:agent_list")
    if request.htmx and (request.htmx.current_url_abs_path or "").split("?", 1)[0] == list_url:
        # Empty 200: the card's hx-swap="delete" removes it.
        return HttpResponse()
    messages.success(request, _("Agent “%(title)s” deleted.") % {"title": agent.title})
    return HttpResponseClientRedirect(list_url) if request.htmx else redirect(list_url)


# --- the conversation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Citation:
    key: str  # n of [ID:n]: the chunk's number in the run, and its key in the reference
    number: int  # from 1, in the order the reply first cites the chunks
    document_name: str
    content: SafeString  # the passage, rendered
    download_url: str
    preview_url: str = ""  # the chunk in the document preview

    @property
    def circled(self) -> str:
        return circled(self.number)


@dataclass
class MessageView:
    role: str
    text: str = ""  # questions: plain text
    html: SafeString | None = None  # replies: rendered Markdown with citation buttons
    error: str = ""  # the run's error, naming the failing component
    citations: list[Citation] = field(default_factory=list)


def _download_url(chunk: dict[str, Any]) -> str:
    if not chunk.get("dataset_id") or not chunk.get("document_id"):
        return ""
    return reverse("knowledge:download_document", args=[chunk["dataset_id"], chunk["document_id"]])


def cited_keys(text: str, chunks: dict[str, Any]) -> list[str]:
    """The reference keys `text` cites with [ID:n], in order of first appearance.

    A marker whose chunk is not in the reference does not count (the page drops it).
    """
    cited: list[str] = []
    for match in CITATION.finditer(text):
        key = str(int(match.group(1)))
        if isinstance(chunks.get(key), dict) and key not in cited:
            cited.append(key)
    return cited


def reply_view(answer: str, chunks: dict[str, Any], error: str, number: int | str) -> MessageView:
    """A reply as message `number` shows it: Markdown rendered, markers numbered ①②③."""
    cited = cited_keys(answer, chunks)
    cites = {
        key: Cite(
            number=position,
            controls=f"message-{number}-cite-{key}",
            label=_("Source %(n)s") % {"n": position},
        )
        for position, key in enumerate(cited, start=1)
    }
    citations = [
        Citation(
            key=key,
            number=position,
            document_name=str(chunks[key].get("document_name") or ""),
            content=render_markdown(str(chunks[key].get("content") or "")),
            download_url=_download_url(chunks[key]),
            preview_url=chunk_preview_url(chunks[key]),
        )
        for position, key in enumerate(cited, start=1)
    ]
    html = render_markdown(answer, markers=CITATION, cites=cites) if answer else None
    return MessageView("assistant", html=html, error=error, citations=citations)


def reply_item_html(answer: str, chunks: dict[str, Any], error: str, number: str) -> str:
    """The <li> of a streamed reply once the run is over, as a reload would show it."""
    view = reply_view(answer, chunks, error, number)
    return render_to_string("agents/_message.html", {"message": view, "number": number}).strip()


def _answer_view(content: str, reference: Any, number: int) -> MessageView:
    answer, marker, error = content.partition(ERROR_MARKER)
    chunks = (reference or {}).get("chunks") if isinstance(reference, dict) else None
    return reply_view(
        answer, chunks if isinstance(chunks, dict) else {}, error if marker else "", number
    )


def conversation_of(session: AgentSession) -> list[MessageView]:
    """The stored conversation: the prologue first, then each question and its cited answer.

    `references` holds one entry per answer (the prologue has none), in order.
    """
    views: list[MessageView] = []
    answers = 0
    for index, message in enumerate(session.messages):
        content = str(message.get("content") or "")
        number = len(views) + 1  # as the template's forloop.counter
        if message.get("role") == "user":
            views.append(MessageView("user", text=content))
        elif message.get("role") == "assistant" and index == 0:
            views.append(reply_view(content, {}, "", number))  # the prologue
        elif message.get("role") == "assistant":
            references = session.references
            reference = references[answers] if answers < len(references) else None
            answers += 1
            views.append(_answer_view(content, reference, number))
    return views


@dataclass(frozen=True)
class SessionItem:
    session: AgentSession
    name: str
    asked: bool  # at least one question


def _session_item(session: AgentSession) -> SessionItem:
    first = next((m for m in session.messages if m.get("role") == "user"), None)
    if first is None:
        return SessionItem(session, _("New session"), False)
    name = " ".join(str(first.get("content") or "").split()) or _("New session")
    if len(name) > SESSION_NAME_CHARS:
        name = name[: SESSION_NAME_CHARS - 1].rstrip() + "…"
    return SessionItem(session, name, True)


def _agent_page(
    request: HtmxHttpRequest, agent: Agent, session: AgentSession | None
) -> HttpResponse:
    items = [_session_item(s) for s in _sessions(request, agent).defer("dsl", "references")]
    context = {
        "agent": agent,
        "component_count": len((agent.dsl or {}).get("components") or {}),
        "sessions": items,
        "session": session,
        "session_name": _session_item(session).name if session else "",
        "conversation": conversation_of(session) if session else [],
        "socket_path": (
            f"/ws/agents/{agent.pk}/sessions/{session.pk}/" if session is not None else ""
        ),
    }
    return render(request, "agents/agent_detail.html", context)


@login_required
@require_http_methods(["GET"])
def agent_detail(request: HtmxHttpRequest, agent_id: str) -> HttpResponse:
    """The last used session, or an invitation to start one."""
    agent = _agent_or_404(request, agent_id)
    latest = _sessions(request, agent).only("pk").first()
    if latest is not None:
        return redirect("agents:session_detail", agent.pk, latest.pk)
    return _agent_page(request, agent, None)


@login_required
@require_http_methods(["GET"])
def session_detail(request: HtmxHttpRequest, agent_id: str, session_id: str) -> HttpResponse:
    """One conversation, restored from the session, with the question box."""
    agent = _agent_or_404(request, agent_id)
    return _agent_page(request, agent, _session_or_404(request, agent, session_id))


@login_required
@require_http_methods(["POST"])
def create_session(request: HtmxHttpRequest, agent_id: str) -> HttpResponse:
    """Start a conversation on the agent's current DSL (it opens with the prologue)."""
    agent = _agent_or_404(request, agent_id)
    session = services.session_create(agent=agent, user_id=str(request.user.pk))
    url = reverse("agents:session_detail", args=[agent.pk, session.pk])
    # A new session needs a new websocket: always a full page.
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_http_methods(["POST"])
def delete_session(request: HtmxHttpRequest, agent_id: str, session_id: str) -> HttpResponse:
    """Delete a session; HTMX removes its sidebar entry, or leaves the page that showed it."""
    agent = _agent_or_404(request, agent_id)
    session = _session_or_404(request, agent, session_id)
    current = bool(request.htmx) and _is_current(request, agent, session)
    services.session_delete(agent_id=agent.pk, tenant=request.user, ids=[session.pk])
    if request.htmx and not current:
        # Empty 200: the entry's hx-swap="delete" removes it.
        return HttpResponse()
    url = reverse("agents:agent_detail", args=[agent.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- the diagram --------------------------------------------------------------------------------
# A read-only picture of the component graph, drawn on the server as inline SVG: one column per
# step from begin, one box per component, one arrow per edge (routing edges labelled).

BOX_WIDTH = 176
BOX_HEIGHT = 54
ROW_GAP = 26
MIN_COLUMN_GAP = 60
MAX_COLUMN_GAP = 230
PADDING = 14
LABEL_CHARS = 30
ID_CHARS = 22
CHAR_WIDTH = 7  # px per character of an edge label, roughly, at the label's font size

KINDS = {
    "Begin": "begin",
    "Retrieval": "retrieval",
    "LLM": "llm",
    "Generate": "llm",
    "Agent": "llm",
    "Message": "message",
    "Answer": "message",
    "Categorize": "route",
    "Switch": "route",
}


@dataclass(frozen=True)
class DiagramBox:
    id: str
    type: str
    label: str  # the id, shortened to fit
    kind: str  # begin | retrieval | llm | message | route (CSS)
    x: int
    y: int


@dataclass(frozen=True)
class DiagramEdge:
    source: str
    target: str
    path: str  # SVG path data
    label: str
    label_x: int
    label_y: int


@dataclass(frozen=True)
class Diagram:
    width: int
    height: int
    boxes: list[DiagramBox]
    edges: list[DiagramEdge]

    @property
    def box_width(self) -> int:
        return BOX_WIDTH

    @property
    def box_height(self) -> int:
        return BOX_HEIGHT


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _condition_label(condition: dict[str, Any]) -> str:
    """`contains “refund” or “money”`: the operator once when every item shares it."""
    items = [item for item in condition.get("items") or [] if isinstance(item, dict)]
    operators = {str(item.get("operator") or "=") for item in items}
    joiner = f" {str(condition.get('logical_operator') or 'and').lower()} "
    parts = []
    for index, item in enumerate(items):
        operator = str(item.get("operator") or "=")
        value = item.get("value", "")
        quoted = f"“{value}”" if value != "" else ""
        if len(operators) == 1 and index > 0:
            parts.append(quoted or operator)
        else:
            parts.append(f"{operator} {quoted}".strip())
    return joiner.join(parts)


def edge_labels(component: dict[str, Any]) -> dict[str, str]:
    """Target id → label for a Categorize's categories and a Switch's conditions."""
    params = component.get("obj", {}).get("params", {})
    labels: dict[str, str] = {}
    kind = component_type(component)
    if kind == "Categorize":
        for name, category in (params.get("category_description") or {}).items():
            for target in id_list(category.get("to") if isinstance(category, dict) else None):
                labels.setdefault(target, str(name))
    elif kind == "Switch":
        for condition in params.get("conditions") or []:
            if isinstance(condition, dict):
                for target in id_list(condition.get("to")):
                    labels.setdefault(target, _condition_label(condition))
        for target in id_list(params.get("end_cpn_ids")):
            labels.setdefault(target, _("else"))
    return labels


def _columns(components: dict[str, Any], children: dict[str, list[str]]) -> dict[str, int]:
    """Each component's column: its longest distance from begin, so every arrow points right.

    Breadth-first from begin, revisiting a component whenever a longer way to it turns up
    (the validated graph has no cycles; the step limit guards against one anyway).
    """
    start = "begin" if "begin" in components else next(iter(components))
    column = {start: 0}
    queue = [start]
    steps = 0
    while queue and steps < 10_000:
        node = queue.pop(0)
        steps += 1
        for child in children[node]:
            if column.get(child, -1) < column[node] + 1:
                column[child] = column[node] + 1
                queue.append(child)
    last = max(column.values())
    for cpn_id in components:  # not reachable from begin (an invalid DSL): one more column
        column.setdefault(cpn_id, last + 1)
    return column


def diagram_of(dsl: Any) -> Diagram | None:
    """The layout of a validated DSL's component graph (None when it has no components)."""
    components = dsl.get("components") if isinstance(dsl, dict) else None
    if not isinstance(components, dict) or not components:
        return None
    children = {
        cpn_id: [c for c in successors(component) if c in components and c != cpn_id]
        for cpn_id, component in components.items()
    }
    parents: dict[str, list[str]] = {cpn_id: [] for cpn_id in components}
    for cpn_id, targets in children.items():
        for child in targets:
            parents[child].append(cpn_id)
    column = _columns(components, children)

    # Rows: each column sorted by where its parents sit (fewer crossings), then by the order
    # its parents list it in (a Switch's conditions top to bottom, "else" last).
    by_column: dict[int, list[str]] = {}
    for cpn_id in components:
        by_column.setdefault(column[cpn_id], []).append(cpn_id)
    row: dict[str, int] = {}
    for number in sorted(by_column):
        ids = by_column[number]
        weight: dict[str, tuple[float, int]] = {}
        for index, cpn_id in enumerate(ids):
            rows = [row[p] for p in parents[cpn_id] if p in row]
            listed = [children[p].index(cpn_id) for p in parents[cpn_id] if p in row]
            weight[cpn_id] = (sum(rows) / len(rows), min(listed)) if rows else (float(index), 0)
        ids.sort(key=weight.__getitem__)
        for index, cpn_id in enumerate(ids):
            row[cpn_id] = index

    labels = {cpn_id: edge_labels(component) for cpn_id, component in components.items()}
    # A label sits at the end of its arrow, so the gap before a column is as wide as the longest
    # label of the arrows arriving there.
    columns = max(by_column) + 1
    gaps = [MIN_COLUMN_GAP] * columns
    for by_target in labels.values():
        for target_id, text in by_target.items():
            gap = max(column[target_id] - 1, 0)
            width = len(_shorten(text, LABEL_CHARS)) * CHAR_WIDTH + 30
            gaps[gap] = min(MAX_COLUMN_GAP, max(gaps[gap], width))
    lefts = [PADDING]
    for number in range(1, columns):
        lefts.append(lefts[-1] + BOX_WIDTH + gaps[number - 1])
    tallest = max(len(ids) for ids in by_column.values())
    pitch = BOX_HEIGHT + ROW_GAP

    def top(cpn_id: str) -> int:
        count = len(by_column[column[cpn_id]])
        offset = (tallest - count) * pitch / 2  # centre short columns
        return int(PADDING + offset + row[cpn_id] * pitch)

    placed = sorted(components, key=lambda cpn_id: (column[cpn_id], row[cpn_id]))
    boxes = [
        DiagramBox(
            id=cpn_id,
            type=component_type(components[cpn_id]),
            label=_shorten(cpn_id, ID_CHARS),
            kind=KINDS.get(component_type(components[cpn_id]), "other"),
            x=lefts[column[cpn_id]],
            y=top(cpn_id),
        )
        for cpn_id in placed
    ]
    position = {box.id: box for box in boxes}
    edges = []
    for cpn_id in placed:
        source = position[cpn_id]
        for target_id in children[cpn_id]:
            target = position[target_id]
            x1, y1 = source.x + BOX_WIDTH, source.y + BOX_HEIGHT // 2
            x2, y2 = target.x - 2, target.y + BOX_HEIGHT // 2  # the arrowhead ends at the box
            bend = max(24, (x2 - x1) // 2)
            edges.append(
                DiagramEdge(
                    source=cpn_id,
                    target=target_id,
                    path=f"M{x1} {y1} C{x1 + bend} {y1} {x2 - bend} {y2} {x2} {y2}",
                    label=_shorten(labels[cpn_id].get(target_id, ""), LABEL_CHARS),
                    # Just before the arrowhead, where arrows run level a row apart: above
                    # the line, or below it when the arrow comes down from above.
                    label_x=x2 - 10,
                    label_y=y2 + 15 if y1 < y2 else y2 - 6,
                )
            )
    width = lefts[-1] + BOX_WIDTH + PADDING
    height = PADDING * 2 + tallest * pitch - ROW_GAP
    return Diagram(width=width, height=height, boxes=boxes, edges=edges)


def in_graph_order(dsl: dict[str, Any]) -> dict[str, Any]:
    """The DSL with `components` first, listed as the diagram reads: begin, then step by step.

    PostgreSQL's jsonb keeps keys sorted by length, which reads like no order at all.
    """
    diagram = diagram_of(dsl)
    if diagram is None:
        return dsl
    components = dsl["components"]
    ordered = {box.id: components[box.id] for box in diagram.boxes}
    return {"components": ordered, **{k: v for k, v in dsl.items() if k != "components"}}
