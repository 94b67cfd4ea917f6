"""Reads of datasets and documents, always scoped to the caller."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet, Sum

from knowledge.models import Dataset, Document
from ragsite.accounts.models import User


def team_mates(user: User) -> QuerySet[User]:
    """Users who share at least one team (Django group) with `user`, `user` included."""
    return get_user_model().objects.filter(groups__in=user.groups.all()).values("id")  # type: ignore[return-value]


def datasets_visible_to(user: User) -> QuerySet[Dataset]:
    """The caller's own datasets plus `team` datasets of people in one of the caller's teams."""
    return Dataset.objects.filter(
        Q(tenant=user) | Q(permission=Dataset.Permission.TEAM, tenant_id__in=team_mates(user))
    )


def dataset_get_visible(user: User, dataset_id: str) -> Dataset | None:
    return datasets_visible_to(user).filter(pk=dataset_id).first()


def dataset_get_owned(user: User, dataset_id: str) -> Dataset | None:
    """Only the owner may change or delete a dataset, whatever its permission."""
    return Dataset.objects.filter(pk=dataset_id, tenant=user).first()


def dataset_size(dataset: Dataset) -> int:
    """The total size in bytes of a dataset's documents."""
    return int(dataset.documents.aggregate(size=Sum("size"))["size"] or 0)


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
) -> QuerySet[Document]:
    """A dataset's documents with the list endpoint's filters, applied before paging."""
    query = Document.objects.filter(dataset=dataset)
    if document_id:
        query = query.filter(pk=document_id)
    if name:
        query = query.filter(name=name)
    if keywords:
        query = query.filter(name__icontains=keywords)
    if suffixes:
        query = query.filter(suffix__in=[s.lower().lstrip(".") for s in suffixes])
    if runs:
        query = query.filter(run__in=runs)
    if created_from_ms:
        query = query.filter(created_at__gte=_from_ms(created_from_ms))
    if created_to_ms:
        query = query.filter(created_at__lte=_from_ms(created_to_ms))
    return query


def _from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)
