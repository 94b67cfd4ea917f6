"""Datasets parsed in-process for the enrichment tests."""

from __future__ import annotations

import io
from typing import Any

from django.core.files import File

from knowledge.models import Dataset, Document
from knowledge.services.datasets import dataset_create
from knowledge.services.documents import Upload, document_upload
from knowledge.services.ingest import parse_start

# Three topics, four short paragraphs each: one chunk per paragraph with the config below.
TOPICS = {
    "walrus": [
        "Walruses haul out on the ice floes of the Laptev Sea every summer.",
        "A walrus uses its tusks to pull itself onto the ice.",
        "Walrus calves stay with their mothers for two years.",
        "The walrus diet is mostly clams found on the sea floor.",
    ],
    "lighthouse": [
        "The lighthouse on Fastnet Rock was lit for the first time in 1904.",
        "Lighthouse keepers wound the clockwork of the lens every four hours.",
        "A lighthouse fog signal sounded twice a minute in thick weather.",
        "The last lighthouse keepers left Fastnet Rock in 1989.",
    ],
    "bread": [
        "Sourdough bread rises with wild yeast instead of baker's yeast.",
        "The sourdough starter is fed with flour and water every day.",
        "A long cold proof gives sourdough bread its sour taste.",
        "Bakers score the sourdough loaf before it goes into the oven.",
    ],
}
TEXT = "\n".join(p for paragraphs in TOPICS.values() for p in paragraphs)
SMALL_CHUNKS: dict[str, Any] = {"chunk_token_num": 16, "delimiter": "\n"}


def parsed_dataset(
    tenant: Any,
    capture: Any,
    *,
    name: str = "enriched",
    text: str = TEXT,
    files: int = 1,
    expect_done: bool = True,
    **parser_config: Any,
) -> Dataset:
    """A dataset with `files` documents of `text`, parsed (eager Celery, in this process)."""
    from knowledge.parser_config import ParserConfig

    config = ParserConfig.model_validate({**SMALL_CHUNKS, **parser_config})
    dataset = dataset_create(tenant=tenant, name=name, parser_config=config)
    uploads = [
        Upload(name=f"notes{i}.txt", file=File(io.BytesIO(text.encode())), size=len(text))
        for i in range(files)
    ]
    documents = document_upload(tenant=tenant, dataset=dataset, uploads=uploads)
    with capture(execute=True):
        parse_start(dataset=dataset, document_ids=[d.pk for d in documents])
    for document in Document.objects.filter(dataset=dataset):
        assert document.run == Document.Run.DONE or not expect_done, document.progress_msg
    dataset.refresh_from_db()
    return dataset
