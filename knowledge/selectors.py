"""Reads of datasets, documents and chunks, always scoped to the caller.

The `…_or_raise` selectors are the one ownership lookup every interface uses: the API passes
the error RAGFlow answers with (a ServiceError), the HTML views Http404.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Sum

from knowledge.metadata_filter import matching_documents, metadata_matches
from knowledge.models import Chunk, Dataset, Document, File, FileLink
from ragsite.accounts.models import User
from ragsite.api.errors import DataError


def team_mates(user: User) -> QuerySet[User]:
    """Users who share at least one team (Django group) with `user`, `user` included."""
    return get_user_model().objects.filter(groups__in=user.groups.all()).values("id")  # type: ignore[return-value]


def datasets_visible_to(user: User) -> QuerySet[Dataset]:
    """The caller's own datasets plus `team` datasets of people in one of the caller's teams."""
    return Dataset.objects.filter(
        Q(tenant=user) | Q(permission=Dataset.Permission.TEAM, tenant_id__in=team_mates(user))
    )


@functools.cache
def _dataset_by_key_sql() -> str:
    """`Dataset.objects.filter(pk=…)` compiled once (the key is its one parameter)."""
    sql, params = Dataset.objects.filter(pk="").query.sql_with_params()
    assert params == ("",), params
    return sql


def dataset_get_visible(user: User, dataset_id: str) -> Dataset | None:
    """The dataset if `user` may read it (`datasets_visible_to`'s rule), else None.

    Looked up by key first: the owner's case (nearly every call, on every API request naming a
    dataset) is then one plain query instead of building and running the team subquery (1.7 →
    ~0.5 ms of CPU measured in-process), with its SQL compiled once (0.89 → 0.32 ms); anyone
    else's goes through the rule itself.
    """
    # str() as the ORM's CharField would: ids from JSON bodies (an agent's DSL) may be numbers.
    key = str(dataset_id)
    dataset = next(iter(Dataset.objects.raw(_dataset_by_key_sql(), [key])), None)
    if dataset is None or dataset.tenant_id == user.pk:
        return dataset
    return datasets_visible_to(user).filter(pk=key).first()


def dataset_get_owned(user: User, dataset_id: str) -> Dataset | None:
    """Only the owner may change or delete a dataset, whatever its permission."""
    return Dataset.objects.filter(pk=dataset_id, tenant=user).first()


def dataset_get_visible_or_raise(
    user: User, dataset_id: str, *, error: Exception | None = None
) -> Dataset:
    """A dataset the user may read (own or shared with a team), or `error` is raised.

    The default error is RAGFlow's 102 `You don't own the dataset <id>.`
    """
    dataset = dataset_get_visible(user, dataset_id)
    if dataset is None:
        raise error or DataError(f"You don't own the dataset {dataset_id}.")
    return dataset


def dataset_get_owned_or_raise(
    user: User, dataset_id: str, *, error: Exception | None = None
) -> Dataset:
    """The user's own dataset (anything that changes it needs one), or `error` is raised."""
    dataset = dataset_get_owned(user, dataset_id)
    if dataset is None:
        raise error or DataError(f"You don't own the dataset {dataset_id}.")
    return dataset


def document_get_or_raise(
    dataset: Dataset, document_id: str, *, error: Exception | None = None
) -> Document:
    """One document of `dataset`, or `error` (default 102 `You don't own the document <id>.`)."""
    document = (
        Document.objects.select_related("dataset").filter(pk=document_id, dataset=dataset).first()
    )
    if document is None:
        raise error or DataError(f"You don't own the document {document_id}.")
    return document


def document_get_visible_or_raise(user: User, document_id: str, *, error: Exception) -> Document:
    """A document of any dataset the user may read (own or shared with a team), or `error`."""
    document = (
        Document.objects.select_related("dataset")
        .filter(pk=document_id, dataset__in=datasets_visible_to(user))
        .first()
    )
    if document is None:
        raise error
    return document


def chunk_get_or_raise(
    document: Document, chunk_id: str, *, error: Exception | None = None
) -> Chunk:
    """One chunk of `document`, without its vector, or `error` (default 102 RAGFlow's text)."""
    chunk = Chunk.objects.filter(pk=chunk_id, document=document).defer("embedding").first()
    if chunk is None:
        raise error or DataError(f"Can't find this chunk {chunk_id}")
    return chunk


def dataset_size(dataset: Dataset) -> int:
    """The total size in bytes of a dataset's documents."""
    return int(dataset.documents.aggregate(size=Sum("size"))["size"] or 0)


def parsing_status(dataset_ids: list[str]) -> dict[str, dict[str, int]]:
    """How many documents of each dataset are in each parse state (RAGFlow v0.27's names)."""
    names = {
        Document.Run.UNSTART: "unstart_count",
        Document.Run.RUNNING: "running_count",
        Document.Run.CANCEL: "cancel_count",
        Document.Run.DONE: "done_count",
        Document.Run.FAIL: "fail_count",
    }
    status = {pk: dict.fromkeys(names.values(), 0) for pk in dataset_ids}
    rows = (
        Document.objects.filter(dataset_id__in=dataset_ids)
        .values_list("dataset_id", "run")
        .annotate(count=Count("pk"))
    )
    for dataset_id, run, count in rows:
        if run in names:
            status[dataset_id][names[run]] = count
    return status


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$")


def _metadata_type(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number"
    if isinstance(value, str) and _DATE.match(value.strip()):
        return "time"
    return "string"


def dataset_metadata_summary(
    dataset: Dataset, document_ids: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Each metadata key of the dataset's documents (or of `document_ids`): its type and its
    values with how many documents carry each, most common first."""
    query = Document.objects.filter(dataset=dataset)
    if document_ids:
        query = query.filter(pk__in=document_ids)
    types: dict[str, str] = {}
    counts: dict[str, dict[str, tuple[Any, int]]] = {}
    for meta in query.values_list("meta_fields", flat=True):
        for key, value in (meta or {}).items():
            types.setdefault(key, _metadata_type(value))
            seen = counts.setdefault(key, {})
            for item in value if isinstance(value, list) else [value]:
                label = json.dumps(item, sort_keys=True, default=str)
                first, count = seen.get(label, (item, 0))
                seen[label] = (first, count + 1)
    return {
        key: {
            "type": types[key],
            "values": [
                [value, count]
                for value, count in sorted(
                    counts[key].values(), key=lambda vc: (-vc[1], str(vc[0]))
                )
            ],
        }
        for key in sorted(counts)
    }


def dataset_name_taken(user: User, name: str, *, exclude_id: str | None = None) -> bool:
    query = Dataset.objects.filter(tenant=user, name__iexact=name)
    if exclude_id:
        query = query.exclude(pk=exclude_id)
    return query.exists()


def documents_filtered(
    dataset: Dataset,
    *,
    keywords: str = "",
    suffixes: list[str] | None = None,
    runs: list[str] | None = None,
    created_from_ms: int = 0,
    created_to_ms: int = 0,
    document_id: str | None = None,
    name: str | None = None,
    ids: list[str] | None = None,
    types: list[str] | None = None,
    metadata_condition: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> QuerySet[Document]:
    """A dataset's documents with the list endpoint's filters, applied before paging.

    `metadata_condition` is `{"logic": "and"|"or", "conditions": [...]}` and `metadata`
    `{key: value or [values]}` (RAGFlow v0.27); both are matched against `meta_fields`.
    """
    query = Document.objects.filter(dataset=dataset)
    if ids:
        query = query.filter(pk__in=ids)
    elif document_id:
        query = query.filter(pk=document_id)
    if name:
        query = query.filter(name=name)
    if keywords:
        query = query.filter(name__icontains=keywords)
    if suffixes:
        query = query.filter(suffix__in=[s.lower().lstrip(".") for s in suffixes])
    if runs:
        query = query.filter(run__in=runs)
    if types:
        query = query.filter(type__in=types)
    if created_from_ms:
        query = query.filter(created_at__gte=_from_ms(created_from_ms))
    if created_to_ms:
        query = query.filter(created_at__lte=_from_ms(created_to_ms))
    conditions = (metadata_condition or {}).get("conditions")
    if conditions or metadata:
        candidates = list(query.values_list("pk", "meta_fields"))
        if conditions and isinstance(conditions, list):
            logic = str((metadata_condition or {}).get("logic") or "and").lower()
            keep = set(matching_documents(candidates, conditions, logic=logic))
            candidates = [(pk, meta) for pk, meta in candidates if pk in keep]
        if metadata:
            candidates = [(pk, meta) for pk, meta in candidates if metadata_matches(meta, metadata)]
        query = query.filter(pk__in=[pk for pk, _meta in candidates])
    return query


def _from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


# --- the file manager (RAGFlow v0.27 §3.9) -------------------------------------------------------


def file_get_or_raise(
    user: User, file_id: Any, *, missing: str, foreign: str = "no authorization"
) -> File:
    """The user's own file or folder; `missing` (102) when there is none with this id, and
    `foreign` (102, RAGFlow's `no authorization`) when it is someone else's."""
    file = File.objects.filter(pk=file_id).first() if isinstance(file_id, str) else None
    if file is None:
        raise DataError(missing)
    if file.tenant_id != user.pk:
        raise DataError(foreign)
    return file


def folder_get_or_raise(user: User, folder_id: Any, *, missing: str) -> File:
    """The user's own folder; anything else (unknown, someone else's, a file) is `missing`."""
    folder = (
        File.objects.filter(pk=folder_id, tenant=user, type=File.Type.FOLDER).first()
        if isinstance(folder_id, str)
        else None
    )
    if folder is None:
        raise DataError(missing)
    return folder


def file_tree(user: User) -> dict[str, list[File]]:
    """Every file and folder of the user by parent id (the root is not its own child)."""
    children: dict[str, list[File]] = {}
    for file in File.objects.filter(tenant=user).order_by("created_at", "pk"):
        if not file.is_root:
            children.setdefault(file.parent_id, []).append(file)
    return children


def file_descendants(
    user: User, folder: File, tree: dict[str, list[File]] | None = None
) -> list[File]:
    """Everything under `folder`, breadth first (not the folder itself)."""
    children = file_tree(user) if tree is None else tree
    found: list[File] = []
    queue = [folder.pk]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            if child.is_folder:
                queue.append(child.pk)
    return found


def file_ancestors(file: File) -> list[File]:
    """`file` and its folders up to the root, nearest first (RAGFlow's get_all_parent_folders)."""
    chain = [file]
    seen = {file.pk}
    current = file
    while not current.is_root:
        current = File.objects.get(pk=current.parent_id)
        if current.pk in seen:
            break
        seen.add(current.pk)
        chain.append(current)
    return chain


def files_listed(
    user: User, folder: File, *, keywords: str, orderby: str, desc: bool
) -> QuerySet[File]:
    """A folder's entries, or with `keywords` the entries anywhere below it whose name holds
    them (case-insensitive), ordered."""
    query = File.objects.filter(tenant=user).exclude(pk=folder.pk)
    if keywords:
        below = [folder.pk] + [f.pk for f in file_descendants(user, folder) if f.is_folder]
        query = query.filter(parent_id__in=below, name__icontains=keywords)
    else:
        query = query.filter(parent=folder)
    return query.order_by(f"-{orderby}" if desc else orderby, "pk")


def file_links_info(file_ids: list[str]) -> dict[str, list[dict[str, str]]]:
    """For each file, the datasets it is linked to: `[{kb_id, kb_name, document_id}]`."""
    info: dict[str, list[dict[str, str]]] = {pk: [] for pk in file_ids}
    rows = (
        FileLink.objects.filter(file_id__in=file_ids)
        .order_by("created_at", "pk")
        .values_list("file_id", "document__dataset_id", "document__dataset__name", "document_id")
    )
    for file_id, kb_id, kb_name, document_id in rows:
        info[file_id].append({"kb_id": kb_id, "kb_name": kb_name, "document_id": document_id})
    return info


def folder_summary(user: User, folder: File, tree: dict[str, list[File]]) -> tuple[int, bool]:
    """A folder's total size (everything below it) and whether it holds a folder."""
    below = file_descendants(user, folder, tree)
    size = sum(f.size for f in below if not f.is_folder)
    return size, any(f.is_folder and f.parent_id == folder.pk for f in below)


# RAGFlow's GET …/knowledge_graph shows the best-ranked part of a graph.
GRAPH_MAX_NODES = 256
GRAPH_MAX_EDGES = 128


def dataset_graph(dataset: Dataset) -> dict[str, Any]:
    """The dataset's knowledge graph as RAGFlow stores it (networkx node-link data) and its
    routes show it: the 256 entities of highest PageRank, the 128 heaviest relations among
    them without self-loops; `{}` when there is no graph."""
    from knowledge.models import GraphEntity, GraphRelation

    entities = list(
        GraphEntity.objects.filter(dataset=dataset).order_by("-pagerank", "name")[:GRAPH_MAX_NODES]
    )
    if not entities:
        return {}
    names = {e.name for e in entities}
    relations = [
        r
        for r in GraphRelation.objects.filter(dataset=dataset).order_by(
            "-weight", "source", "target"
        )
        if r.source in names and r.target in names and r.source != r.target
    ][:GRAPH_MAX_EDGES]
    document_ids = sorted({d for e in entities for d in e.document_ids})
    return {
        "directed": False,
        "multigraph": False,
        "graph": {"source_id": document_ids},
        "nodes": [
            {
                "entity_name": e.name,
                "entity_type": e.entity_type.upper(),
                "description": e.description,
                "source_id": e.document_ids,
                "rank": e.degree,
                "pagerank": e.pagerank,
                "communities": e.communities,
                "id": e.name,
            }
            for e in entities
        ],
        "edges": [
            {
                "src_id": r.source,
                "tgt_id": r.target,
                "description": r.description,
                "keywords": r.keywords,
                "weight": r.weight,
                "source_id": r.document_ids,
                "source": r.source,
                "target": r.target,
            }
            for r in relations
        ],
    }
