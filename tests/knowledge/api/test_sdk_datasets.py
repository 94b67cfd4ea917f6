"""The real ragflow-sdk 0.22.1 client against a real Daphne: datasets end to end."""

from __future__ import annotations

import pytest
import requests
from ragflow_sdk import RAGFlow

from ragsite.accounts.models import User
from ragsite.accounts.services import api_key_create

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rag(live_server_url: str) -> RAGFlow:
    user = User.objects.create_user("sdk-user", password="sdk-password-1")
    return RAGFlow(
        api_key=api_key_create(user=user, generation="v0.22")[1], base_url=live_server_url
    )


def test_sdk_creates_lists_updates_and_deletes_datasets(rag: RAGFlow) -> None:
    ds = rag.create_dataset(name="kb_sdk")
    assert ds.id and ds.name == "kb_sdk" and ds.chunk_method == "naive"
    assert ds.embedding_model == "sentence-transformers/all-MiniLM-L6-v2@Builtin"
    assert ds.parser_config.chunk_token_num == 512

    assert any(d.id == ds.id for d in rag.list_datasets(page_size=100))
    (by_name,) = rag.list_datasets(name="kb_sdk")
    assert by_name.id == ds.id
    assert rag.list_datasets(id=ds.id)[0].name == "kb_sdk"
    assert rag.get_dataset(name="kb_sdk").id == ds.id

    ds.update({"chunk_method": "manual", "description": "a manual"})
    assert ds.chunk_method == "manual"  # the SDK copies the returned object back
    fresh = rag.list_datasets(id=ds.id)[0]
    assert (fresh.chunk_method, fresh.description) == ("manual", "a manual")
    ds.update({"chunk_method": "naive"})
    assert rag.list_datasets(id=ds.id)[0].chunk_method == "naive"

    duplicate = rag.create_dataset(name="kb_sdk")
    assert duplicate.name == "kb_sdk(1)"

    rag.delete_datasets(ids=[duplicate.id])
    assert [d.id for d in rag.list_datasets()] == [ds.id]
    rag.delete_datasets(ids=[ds.id])
    assert rag.list_datasets() == []


def test_sdk_surfaces_errors_as_exceptions(rag: RAGFlow) -> None:
    with pytest.raises(Exception, match="Input should be 'me' or 'team'"):
        rag.create_dataset(name="kb", permission="everyone")
    with pytest.raises(Exception, match="lacks permission"):
        rag.list_datasets(name="missing")


def test_live_server_never_answers_html_under_api(live_server_url: str) -> None:
    for method, path in [
        ("get", "/api/v1/nope"),
        ("patch", "/api/v1/datasets"),
        ("get", "/api/v1/datasets"),
    ]:
        response = requests.request(method, live_server_url + path, timeout=10)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/json")
        assert "code" in response.json()
