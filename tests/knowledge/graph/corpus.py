"""A small corpus with two-hop facts: who founded which organisation (one document), where that
organisation works (another document, naming it a little differently). A question names the
founder and asks for the town; only the graph links the two."""

from __future__ import annotations

import io
from typing import Any

from django.core.files import File

from knowledge.models import Dataset, Document
from knowledge.parser_config import ParserConfig
from knowledge.services.datasets import dataset_create
from knowledge.services.documents import Upload, document_upload
from knowledge.services.ingest import parse_start

LINES = [
    "Alice Novak founded Borealis Labs in 2019.",
    "Borealis Lab operates its main research station in Kirkenes.",
    "Marco Ruiz founded Vela Systems in 2015.",
    "Vela Systems builds its sailing drones in Lisbon.",
    "Walruses rest on the ice floes of the Laptev Sea every summer.",
    "The lighthouse on Fastnet Rock was lit for the first time in 1904.",
]
QUESTION = "In which town does the organisation started by Alice Novak work?"
ANSWER = "Kirkenes"
GRAPH_CONFIG: dict[str, Any] = {
    "graphrag": {
        "use_graphrag": True,
        "method": "light",
        "resolution": True,
        "community": True,
        "entity_types": ["organization", "person", "geo", "event", "category"],
    }
}


def parsed_lines(
    tenant: Any, capture: Any, *, name: str = "graph", lines: list[str] = LINES, **config: Any
) -> Dataset:
    """A dataset with one document (of one chunk) per line, parsed in this process."""
    dataset = dataset_create(
        tenant=tenant, name=name, parser_config=ParserConfig.model_validate(config)
    )
    uploads = [
        Upload(name=f"note{i}.txt", file=File(io.BytesIO(line.encode())), size=len(line.encode()))
        for i, line in enumerate(lines)
    ]
    documents = document_upload(tenant=tenant, dataset=dataset, uploads=uploads)
    with capture(execute=True):
        parse_start(dataset=dataset, document_ids=[d.pk for d in documents])
    for document in Document.objects.filter(dataset=dataset):
        assert document.run == Document.Run.DONE, document.progress_msg
    dataset.refresh_from_db()
    return dataset
