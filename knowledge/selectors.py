"""Reads of datasets, always scoped to the caller."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from knowledge.models import Dataset
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


def dataset_name_taken(user: User, name: str, *, exclude_id: str | None = None) -> bool:
    query = Dataset.objects.filter(tenant=user, name__iexact=name)
    if exclude_id:
        query = query.exclude(pk=exclude_id)
    return query.exists()
