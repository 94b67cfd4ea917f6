"""The one ownership lookup every interface uses for a dataset id."""

from __future__ import annotations

from django.contrib.auth.models import Group

from knowledge.models import Dataset
from knowledge.parser_config import ParserConfig
from knowledge.selectors import dataset_get_visible, datasets_visible_to
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User


def test_dataset_get_visible_follows_the_visibility_rule(tenant, other_tenant) -> None:
    """Owner: always; a team mate: `team` datasets only; anyone else, or an unknown id: None.
    The same answer as filtering datasets_visible_to() by the id."""
    private = dataset_create(
        tenant=tenant, name="private", parser_config=ParserConfig(chunk_token_num=64)
    )
    shared = dataset_create(tenant=tenant, name="shared")
    Dataset.objects.filter(pk=shared.pk).update(permission=Dataset.Permission.TEAM)
    stranger = User.objects.create_user(username="stranger", password="x")
    Group.objects.create(name="elsewhere").user_set.add(stranger)

    def visible(user: User, dataset_id: str) -> str | None:
        found = dataset_get_visible(user, dataset_id)
        expected = datasets_visible_to(user).filter(pk=dataset_id).first()
        assert found == expected
        if found is not None:  # every field read as the ORM reads it (JSON decoded, dates)
            assert {
                f.attname: getattr(found, f.attname) for f in Dataset._meta.concrete_fields
            } == {f.attname: getattr(expected, f.attname) for f in Dataset._meta.concrete_fields}
        return found.pk if found else None

    assert visible(tenant, private.pk) == private.pk
    assert visible(tenant, shared.pk) == shared.pk
    assert visible(other_tenant, shared.pk) is None  # no team in common yet
    Group.objects.create(name="research").user_set.add(tenant, other_tenant)
    assert visible(other_tenant, shared.pk) == shared.pk
    assert visible(other_tenant, private.pk) is None  # "me" stays the owner's
    assert visible(stranger, shared.pk) is None  # in a team, not the owner's
    assert visible(tenant, "0" * 32) is None
    assert visible(other_tenant, "no-such-id") is None
    assert dataset_get_visible(tenant, 12345) is None  # type: ignore[arg-type]  # a number from JSON
