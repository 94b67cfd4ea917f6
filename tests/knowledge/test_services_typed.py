"""The knowledge services called directly with typed inputs, no HTTP: what the API, the HTML
views and the admin share. The request models that build those inputs are checked here too."""

from __future__ import annotations

import base64

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404

from knowledge.api.schemas import ChunkAddIn, ChunkUpdateIn, DocumentUpdateIn
from knowledge.models import Chunk, Dataset, Document, TermStat
from knowledge.selectors import (
    chunk_get_or_raise,
    dataset_get_owned_or_raise,
    dataset_get_visible_or_raise,
    document_get_or_raise,
    documents_filtered,
)
from knowledge.services.chunks import (
    ChunkChanges,
    chunk_add,
    chunk_delete,
    chunk_list,
    chunk_set_available,
    chunk_update,
)
from knowledge.services.datasets import dataset_create
from knowledge.services.documents import (
    DocumentChanges,
    Upload,
    document_delete,
    document_update,
    document_upload,
)
from knowledge.services.ingest import parse_start, parse_stop
from ragsite.accounts.models import User
from ragsite.api.errors import ArgumentError, DataError

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.fixture
def dataset(tenant: User) -> Dataset:
    return dataset_create(tenant=tenant, name="handbook")


def make_document(dataset: Dataset, name: str = "notes.txt") -> Document:
    data = b"Field notes from the Kolguev expedition.\n"
    (document,) = document_upload(
        tenant=dataset.tenant,
        dataset=dataset,
        uploads=[Upload(name=name, file=ContentFile(data), size=len(data))],
    )
    return document


@pytest.fixture
def document(dataset: Dataset) -> Document:
    return make_document(dataset)


# --- selectors --------------------------------------------------------------------------------


def test_selectors_raise_the_error_each_interface_asks_for(
    tenant: User, other_tenant: User, dataset: Dataset, document: Document
) -> None:
    assert dataset_get_owned_or_raise(tenant, dataset.pk) == dataset
    with pytest.raises(DataError, match=f"You don't own the dataset {dataset.pk}."):
        dataset_get_owned_or_raise(other_tenant, dataset.pk)
    with pytest.raises(Http404):
        dataset_get_visible_or_raise(other_tenant, dataset.pk, error=Http404())
    assert document_get_or_raise(dataset, document.pk) == document
    with pytest.raises(DataError, match="You don't own the document ghost."):
        document_get_or_raise(dataset, "ghost")
    with pytest.raises(ArgumentError, match="custom"):
        chunk_get_or_raise(document, "ghost", error=ArgumentError("custom"))


# --- documents --------------------------------------------------------------------------------


def test_document_update_applies_typed_changes(dataset: Dataset, document: Document) -> None:
    chunk_add(document=document, content="walrus census")
    changes = DocumentChanges(
        name="renamed.txt",
        parser_config={"chunk_token_num": 256},
        meta_fields={"author": "Ann"},
        enabled=False,
        locked={"chunk_count": 1},
    )
    updated = document_update(dataset=dataset, document_id=document.pk, changes=changes)
    assert (updated.name, updated.meta_fields, updated.enabled) == (
        "renamed.txt",
        {"author": "Ann"},
        False,
    )
    assert updated.parser_config["chunk_token_num"] == 256
    assert not Chunk.objects.filter(document=document, available=True).exists()
    with pytest.raises(DataError, match="Can't change `chunk_count`."):
        document_update(
            dataset=dataset,
            document_id=document.pk,
            changes=DocumentChanges(locked={"chunk_count": 5}),
        )
    with pytest.raises(ArgumentError, match="The extension of file can't be changed"):
        document_update(
            dataset=dataset, document_id=document.pk, changes=DocumentChanges(name="x.pdf")
        )


def test_document_update_in_builds_changes_from_either_generation() -> None:
    merged = DocumentUpdateIn.model_validate(
        [{"display_name": "a.txt"}, {"enabled": 0, "chunk_count": 3, "unknown": 1}]
    ).changes()
    assert merged == DocumentChanges(name="a.txt", enabled=False, locked={"chunk_count": 3})
    assert DocumentUpdateIn.model_validate("not an object").changes() == DocumentChanges()
    with pytest.raises(DataError, match="meta_fields must be a dictionary"):
        DocumentUpdateIn.model_validate({"meta_fields": [1]})
    with pytest.raises(DataError, match="`enabled` should be 0 or 1"):
        DocumentUpdateIn.model_validate({"enabled": "yes"})
    with pytest.raises(ArgumentError, match="`name` should be a string."):
        DocumentUpdateIn.model_validate({"name": None})
    # An empty pipeline id is what v0.27 sends to mean "no pipeline".
    assert DocumentUpdateIn.model_validate({"pipeline_id": ""}).changes() == DocumentChanges()


def test_document_delete_all_or_nothing_keeps_everything_on_an_unknown_id(
    dataset: Dataset, document: Document
) -> None:
    with pytest.raises(DataError, match="Document not found: ghost"):
        document_delete(dataset=dataset, ids=[document.pk, "ghost"], all_or_nothing=True)
    assert Document.objects.filter(pk=document.pk).exists()
    deleted, missing, _dups = document_delete(dataset=dataset, ids=[document.pk, "ghost"])
    assert (deleted, missing) == (1, ["ghost"])


def test_documents_filtered_by_metadata_condition_and_metadata(dataset: Dataset) -> None:
    ann = make_document(dataset, "ann.txt")
    bob = make_document(dataset, "bob.txt")
    bare = make_document(dataset, "bare.txt")
    Document.objects.filter(pk=ann.pk).update(meta_fields={"author": "Ann", "year": 2019})
    Document.objects.filter(pk=bob.pk).update(meta_fields={"author": "Bob", "year": 2021})

    def names(**filters) -> set[str]:
        return set(documents_filtered(dataset, **filters).values_list("name", flat=True))

    after_2020 = {"conditions": [{"name": "year", "comparison_operator": ">", "value": "2020"}]}
    assert names(metadata_condition=after_2020) == {"bob.txt"}
    either = {
        "logic": "or",
        "conditions": [
            {"name": "author", "comparison_operator": "is", "value": "ann"},
            {"name": "year", "comparison_operator": "=", "value": 2021},
        ],
    }
    assert names(metadata_condition=either) == {"ann.txt", "bob.txt"}
    assert names(metadata_condition={**either, "logic": "and"}) == set()
    assert names(metadata={"author": ["Ann", "Bob"]}) == {"ann.txt", "bob.txt"}
    assert names(metadata={"author": "Ann", "year": 2021}) == set()
    assert names(metadata={"empty_metadata": True}) == {bare.name}
    assert names(ids=[ann.pk, bare.pk], types=["doc"]) == {"ann.txt", "bare.txt"}


# --- parsing ------------------------------------------------------------------------------------


def test_parse_stop_can_report_idle_documents_instead_of_refusing(
    dataset: Dataset, document: Document
) -> None:
    other = make_document(dataset, "other.txt")
    parse_start(dataset=dataset, document_ids=[document.pk])  # queued: eager Celery is off here
    with pytest.raises(DataError, match="progress at 0 or 1"):
        parse_stop(dataset=dataset, document_ids=[document.pk, other.pk])
    assert Document.objects.get(pk=document.pk).run == Document.Run.RUNNING
    outcome = parse_stop(dataset=dataset, document_ids=[document.pk, other.pk], skip_idle=True)
    assert (outcome.success_count, outcome.idle) == (1, [other.pk])
    assert Document.objects.get(pk=document.pk).run == Document.Run.CANCEL
    with pytest.raises(DataError, match=r"Documents not found: \['ghost'\]"):
        parse_stop(dataset=dataset, document_ids=[other.pk, "ghost"], skip_idle=True)


def test_parse_start_can_restart_a_running_document(dataset: Dataset, document: Document) -> None:
    Document.objects.filter(pk=document.pk).update(run=Document.Run.RUNNING, progress=0.5)
    with pytest.raises(DataError, match="currently being processed"):
        parse_start(dataset=dataset, document_ids=[document.pk])
    before = Document.objects.get(pk=document.pk).parse_generation
    assert (
        parse_start(dataset=dataset, document_ids=[document.pk], restart_running=True).success_count
        == 1
    )
    assert Document.objects.get(pk=document.pk).parse_generation == before + 1


# --- chunks -------------------------------------------------------------------------------------


def test_chunk_add_with_tags_and_an_image(
    dataset: Dataset, document: Document, django_capture_on_commit_callbacks
) -> None:
    chunk = chunk_add(
        document=document,
        content="walrus census",
        important_keywords=["walrus"],
        tags=["fauna"],
        tag_weights={"fauna": 0.5},
        image=PNG,
    )
    assert (chunk.tags, chunk.tag_weights) == (["fauna"], {"fauna": 0.5})
    assert chunk.image_id == f"{dataset.pk}-{chunk.pk}"
    with default_storage.open(chunk.image_location) as handle:
        assert handle.read() == PNG
    # An edit keeps the image; a new image replaces it, and the old file goes after the commit.
    old = chunk.image_location
    with django_capture_on_commit_callbacks(execute=True):
        kept = chunk_update(
            document=document, chunk_id=chunk.pk, changes=ChunkChanges(tags=["sea"])
        )
    assert kept.image_location == old and default_storage.exists(old)
    with django_capture_on_commit_callbacks(execute=True):
        replaced = chunk_update(
            document=document, chunk_id=chunk.pk, changes=ChunkChanges(image=b"GIF89a")
        )
    assert replaced.image_location != old and not default_storage.exists(old)
    with django_capture_on_commit_callbacks(execute=True):
        chunk_delete(document=document, ids=[chunk.pk])
    assert not default_storage.exists(replaced.image_location)


def test_chunk_update_changes_only_what_is_given_and_keeps_counters_exact(
    dataset: Dataset, document: Document
) -> None:
    chunk = chunk_add(document=document, content="alpha beta", questions=["what?"])
    vector = list(Chunk.objects.get(pk=chunk.pk).embedding)
    updated = chunk_update(
        document=document, chunk_id=chunk.pk, changes=ChunkChanges(important_keywords=["k"])
    )
    assert (updated.content, updated.questions, updated.important_keywords) == (
        "alpha beta",
        ["what?"],
        ["k"],
    )
    assert list(Chunk.objects.get(pk=chunk.pk).embedding) == vector  # not re-embedded
    chunk_update(document=document, chunk_id=chunk.pk, changes=ChunkChanges(content="gamma"))
    assert not TermStat.objects.filter(dataset=dataset, term="alpha").exists()
    assert TermStat.objects.get(dataset=dataset, term="gamma").df == 1
    assert Dataset.objects.get(pk=dataset.pk).chunk_count == 1
    with pytest.raises(DataError, match="`content` is required"):
        chunk_update(document=document, chunk_id=chunk.pk, changes=ChunkChanges(content=" "))


def test_chunk_set_available_and_list_filters(document: Document) -> None:
    one = chunk_add(document=document, content="one")
    two = chunk_add(document=document, content="two")
    assert chunk_set_available(document=document, chunk_ids=[one.pk], available=False) == 1
    assert [c.pk for c in chunk_list(document=document, available=False).chunks] == [one.pk]
    assert [c.pk for c in chunk_list(document=document, available=True).chunks] == [two.pk]
    assert [c.pk for c in chunk_list(document=document, ids=[two.pk]).chunks] == [two.pk]


def test_chunk_request_models_keep_ragflow_texts() -> None:
    body = ChunkAddIn.model_validate(
        {"content": "x", "tag_kwd": ["a"], "image_base64": base64.b64encode(PNG).decode()}
    )
    assert (body.tag_kwd, body.image_base64, body.questions) == (["a"], PNG, [])
    with pytest.raises(DataError, match="`content` is required"):
        ChunkAddIn.model_validate({})
    with pytest.raises(DataError, match="`tag_kwd` is required to be a list"):
        ChunkAddIn.model_validate({"content": "x", "tag_kwd": "a"})
    with pytest.raises(DataError, match="Invalid `image_base64`"):
        ChunkAddIn.model_validate({"content": "x", "image_base64": "not base64!"})
    assert ChunkUpdateIn.model_validate({"available": 0, "x": 1}).changes() == ChunkChanges(
        available=False
    )
    with pytest.raises(DataError, match="`questions` should be a list"):
        ChunkUpdateIn.model_validate({"questions": "x"})
