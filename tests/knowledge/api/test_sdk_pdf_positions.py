"""ragflow-sdk 0.22.1 against Daphne + a real Celery worker: PDF chunks carry RAGFlow's positions
([page, x0, x1, top, bottom], points from the page's top-left) and tables come back as HTML, in
the chunk list and in retrieval, for a generated and a real two-column paper."""

from __future__ import annotations

import time

import pytest
from ragflow_sdk import RAGFlow

from bench.parsing.corpus import FetchError, fetch
from ragsite.accounts.models import User
from ragsite.accounts.services import api_key_create
from tests.knowledge.parsing import builders

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MM = builders.MM
GENERATED_TABLE = (
    "<table><caption>Table 1: Accuracy and latency of the three models.</caption>"
    "<tr><th>Model</th><th>Accuracy</th><th>Latency</th></tr>"
    "<tr><td>Alpha</td><td>91.2</td><td>12 ms</td></tr>"
    "<tr><td>Beta</td><td>88.7</td><td>8 ms</td></tr>"
    "<tr><td>Gamma</td><td>93.5</td><td>30 ms</td></tr></table>"
)
# acmart's sample-sigconf.pdf, page 3: Table 1 in the right-hand column. Its top and bottom
# rules, checked by hand on a 216 dpi rendering, run from x 329 to 547 pt at y 106 and 172 pt.
REAL_TABLE_FRAME = (329.0, 547.0, 106.0, 172.0)
REAL_TABLE = (
    "<table><caption>Table 1: Frequency of Special Characters</caption>"
    "<tr><th>Non-English or Math</th><th>Frequency</th><th>Comments</th></tr>"
    "<tr><td>Ø</td><td>1 in 1,000</td><td>For Swedish names</td></tr>"
)


@pytest.fixture
def rag(live_server_url: str) -> RAGFlow:
    user = User.objects.create_user("sdk-pdf", password="sdk-password-1")
    return RAGFlow(
        api_key=api_key_create(user=user, generation="v0.22")[1], base_url=live_server_url
    )


def _parse(rag: RAGFlow, name: str, blob: bytes):
    dataset = rag.create_dataset(name=f"kb-{name}")
    dataset.upload_documents([{"display_name": name, "blob": blob}])
    [doc] = dataset.list_documents()
    dataset.async_parse_documents([doc.id])
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        doc = dataset.list_documents(id=doc.id)[0]
        if doc.run in ("DONE", "FAIL", "CANCEL"):
            break
        time.sleep(0.5)
    assert doc.run == "DONE", doc.progress_msg
    return dataset, doc


def test_a_generated_two_column_pdf_gives_an_html_table_with_its_box(rag: RAGFlow) -> None:
    dataset, doc = _parse(rag, "paper.pdf", builders.two_column_pdf_bytes())
    chunks = doc.list_chunks(page_size=100)
    assert all(chunk.positions for chunk in chunks)
    for chunk in chunks:
        for position in chunk.positions:
            assert len(position) == 5 and all(isinstance(v, int) for v in position)
            assert 1 <= position[0] <= 3
    [table] = [chunk for chunk in chunks if chunk.content.startswith("<table>")]
    assert table.content == GENERATED_TABLE
    [[page, *box]] = table.positions
    # The box is the table's drawn frame (whole points: within one of where it was drawn).
    frame = [v * MM for v in builders.TABLE_BOX_MM]
    assert page == 2 and all(abs(a - b) <= 1.5 for a, b in zip(box, frame, strict=True)), box
    # The running header is gone, and the left column is read before the right one.
    text = "\n".join(chunk.content for chunk in chunks)
    assert "Journal of Layout Studies" not in text
    assert text.index("Left column page 2 ends") < text.index("Right column page 2 begins")

    hits = rag.retrieve(dataset_ids=[dataset.id], question="Gamma accuracy latency models")
    [hit] = [h for h in hits if h.id == table.id]
    assert hit.positions == table.positions


def test_a_real_two_column_paper_gives_its_table_as_html_on_the_right_page(rag: RAGFlow) -> None:
    try:
        path = fetch(["acm-sigconf.pdf"])["acm-sigconf.pdf"]
    except FetchError as exc:
        pytest.skip(f"the real PDF could not be fetched: {exc}")
    dataset, doc = _parse(rag, "acm-sigconf.pdf", path.read_bytes())
    chunks = doc.list_chunks(page_size=200)
    [table] = [chunk for chunk in chunks if chunk.content.startswith(REAL_TABLE)]
    assert "<tr><td>$</td><td>4 in 5</td><td>Used in business</td></tr>" in table.content
    [[page, *box]] = table.positions
    assert page == 3
    assert all(abs(a - b) <= 1.5 for a, b in zip(box, REAL_TABLE_FRAME, strict=True)), box
    text = "\n".join(chunk.content for chunk in chunks)
    # The conference line heads pages 2-6; only page 1's copyright block keeps it.
    assert text.count("Conference acronym ’XX, June 03–05, 2018, Woodstock, NY") == 1
    assert all(chunk.positions for chunk in chunks)

    hits = rag.retrieve(
        dataset_ids=[dataset.id], question="frequency of special characters Swedish"
    )
    [hit] = [h for h in hits if h.id == table.id]
    assert hit.positions == table.positions
