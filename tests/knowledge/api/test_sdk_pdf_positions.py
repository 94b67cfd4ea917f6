"""RAGFlow's clients against Daphne + a real Celery worker: PDF chunks carry RAGFlow's positions
([page, x0, x1, top, bottom], points from the page's top-left) and tables come back as HTML, in
the chunk list and in retrieval (and, with 0.27.3, in a chat's citations), for a generated and
a real two-column paper, through ragflow-sdk 0.22.1 (this venv) and 0.27.3 (its own Python 3.13
venv: tests/sdk_clients.py).

A table's box is checked against the PDF's own text layer (pdfplumber's words): it holds every
word of the table's first and last rows and no edge lies more than BOX_SLACK from them, so a box
that took in the caption or the notes under the table, or one on another page, fails."""

from __future__ import annotations

import json
import subprocess
import textwrap
import time
from io import BytesIO
from pathlib import Path

import pdfplumber
import pytest
from ragflow_sdk import RAGFlow

from bench.parsing.corpus import FetchError, fetch
from ragsite.accounts.models import User
from ragsite.accounts.services import api_key_create
from tests.knowledge.parsing import builders
from tests.sdk_clients import SdkClient, SdkUnavailable, sdk27_client

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MM = builders.MM
DATA = Path(__file__).resolve().parents[2] / "data"
# REVTeX 4.2's APS sample (vendored unmodified, LPPL 1.3c: tests/data/README.md). Table I sits at
# the foot of the left-hand column of page 4, its caption above it and its notes below it.
REAL_PDF = DATA / "apssamp.pdf"
REAL_PAGE = 4
REAL_TABLE = (
    "<table><caption>TABLE I. A table that fits into a single column of a two-column layout."
)
REAL_ROWS = (
    "<tr><th>Lefta</th><th>Centeredb</th><th>Decimal</th><th>Right</th></tr>"
    "<tr><td>1</td><td>2</td><td>3.001</td><td>4</td></tr>"
    "<tr><td>10</td><td>20</td><td>30</td><td>40</td></tr>"
    "<tr><td>100</td><td>200</td><td>300.0</td><td>400</td></tr></table>"
)
REAL_FIRST_ROW, REAL_LAST_ROW = ("Lefta", "Centeredb", "Decimal", "Right"), ("100", "200", "400")
REAL_QUESTION = "table single column two-column layout left centered decimal right aligned"

GENERATED_TABLE = (
    "<table><caption>Table 1: Accuracy and latency of the three models.</caption>"
    "<tr><th>Model</th><th>Accuracy</th><th>Latency</th></tr>"
    "<tr><td>Alpha</td><td>91.2</td><td>12 ms</td></tr>"
    "<tr><td>Beta</td><td>88.7</td><td>8 ms</td></tr>"
    "<tr><td>Gamma</td><td>93.5</td><td>30 ms</td></tr></table>"
)
GENERATED_FIRST_ROW, GENERATED_LAST_ROW = ("Model", "Accuracy", "Latency"), ("Gamma", "93.5")
GENERATED_QUESTION = "Gamma accuracy latency models"

# acmart's sample-sigconf.pdf, page 3: Table 1 in the right-hand column. Its top and bottom
# rules, checked by hand on a 216 dpi rendering, run from x 329 to 547 pt at y 106 and 172 pt.
ACM_TABLE_FRAME = (329.0, 547.0, 106.0, 172.0)
ACM_TABLE = (
    "<table><caption>Table 1: Frequency of Special Characters</caption>"
    "<tr><th>Non-English or Math</th><th>Frequency</th><th>Comments</th></tr>"
    "<tr><td>Ø</td><td>1 in 1,000</td><td>For Swedish names</td></tr>"
)
BOX_SLACK = 8.0  # points between a table's box (its rules or frame) and its outermost words


def text_layer_box(
    pdf: bytes, page: int, first_row: tuple[str, ...], last_row: tuple[str, ...]
) -> tuple[float, float, float, float]:
    """(x0, x1, top, bottom) around the words of a table's first and last rows, read from the
    PDF's text layer: each row is the one line (words sharing a baseline) holding all its words."""
    with pdfplumber.open(BytesIO(pdf)) as document:
        words = document.pages[page - 1].extract_words()
    lines: dict[int, list[dict]] = {}
    for word in words:
        lines.setdefault(round(word["bottom"]), []).append(word)
    picked = []
    for row in (first_row, last_row):
        [line] = [ws for ws in lines.values() if set(row) <= {w["text"] for w in ws}]
        picked += [w for w in line if w["text"] in row]
    return (
        min(w["x0"] for w in picked),
        max(w["x1"] for w in picked),
        min(w["top"] for w in picked),
        max(w["bottom"] for w in picked),
    )


def assert_box_fits(
    position: list,
    page: int,
    words: tuple[float, float, float, float],
    slack: float | None = BOX_SLACK,
) -> None:
    """The position is on `page` and its box holds the words' box, no edge further than
    `slack` from it (None: only holds it, for a frame whose cells are wider than their text)."""
    assert len(position) == 5 and all(isinstance(v, int) for v in position), position
    assert position[0] == page, position
    x0, x1, top, bottom = position[1:]
    wx0, wx1, wtop, wbottom = words
    # Whole points: the box may round one point inwards of a word it holds.
    assert x0 <= wx0 + 1 and x1 >= wx1 - 1 and top <= wtop + 1 and bottom >= wbottom - 1, (
        position,
        words,
    )
    if slack is not None:
        gaps = (wx0 - x0, x1 - wx1, wtop - top, bottom - wbottom)
        assert all(gap <= slack for gap in gaps), (position, words)


def assert_generated_box(position: list, blob: bytes) -> None:
    """On page 2, holding the table's words, and the table's drawn frame (whole points: within
    one of where it was drawn; its cells are wider than their text, so the frame is the truth)."""
    words = text_layer_box(blob, 2, GENERATED_FIRST_ROW, GENERATED_LAST_ROW)
    assert_box_fits(position, 2, words, slack=None)
    frame = [v * MM for v in builders.TABLE_BOX_MM]
    assert all(abs(a - b) <= 1.5 for a, b in zip(position[1:], frame, strict=True)), position


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
    blob = builders.two_column_pdf_bytes()
    dataset, doc = _parse(rag, "paper.pdf", blob)
    chunks = doc.list_chunks(page_size=100)
    assert all(chunk.positions for chunk in chunks)
    for chunk in chunks:
        for position in chunk.positions:
            assert len(position) == 5 and all(isinstance(v, int) for v in position)
            assert 1 <= position[0] <= 3
    [table] = [chunk for chunk in chunks if chunk.content.startswith("<table>")]
    assert table.content == GENERATED_TABLE
    [position] = table.positions
    assert_generated_box(position, blob)
    # The running header is gone, and the left column is read before the right one.
    text = "\n".join(chunk.content for chunk in chunks)
    assert "Journal of Layout Studies" not in text
    assert text.index("Left column page 2 ends") < text.index("Right column page 2 begins")

    hits = rag.retrieve(dataset_ids=[dataset.id], question=GENERATED_QUESTION)
    [hit] = [h for h in hits if h.id == table.id]
    assert hit.positions == table.positions and hit.content == table.content


def test_a_real_two_column_paper_shipped_with_the_tests_gives_its_table_and_box(
    rag: RAGFlow,
) -> None:
    blob = REAL_PDF.read_bytes()
    dataset, doc = _parse(rag, "apssamp.pdf", blob)
    chunks = doc.list_chunks(page_size=200)
    assert chunks and all(chunk.positions for chunk in chunks)
    [table] = [chunk for chunk in chunks if chunk.content.startswith(REAL_TABLE)]
    assert table.content.endswith("</caption>" + REAL_ROWS), table.content
    [position] = table.positions
    assert_box_fits(
        position, REAL_PAGE, text_layer_box(blob, REAL_PAGE, REAL_FIRST_ROW, REAL_LAST_ROW)
    )
    # The left column's last lines come before the right column's first ones on that page.
    text = "\n".join(chunk.content for chunk in chunks)
    assert text.index("It is highly recommended that you put the entire") < text.index(
        "Note that the location of"
    )

    hits = rag.retrieve(dataset_ids=[dataset.id], question=REAL_QUESTION)
    [hit] = [h for h in hits if h.id == table.id]
    assert hit.positions == table.positions and hit.content == table.content


def test_a_fetched_real_paper_gives_its_table_as_html_on_the_right_page(rag: RAGFlow) -> None:
    """acmart's sample (1 MB, not shipped): fetched from Debian like bench/parsing's corpus."""
    try:
        path = fetch(["acm-sigconf.pdf"])["acm-sigconf.pdf"]
    except FetchError as exc:
        pytest.skip(f"the real PDF could not be fetched: {exc}")
    dataset, doc = _parse(rag, "acm-sigconf.pdf", path.read_bytes())
    chunks = doc.list_chunks(page_size=200)
    [table] = [chunk for chunk in chunks if chunk.content.startswith(ACM_TABLE)]
    assert "<tr><td>$</td><td>4 in 5</td><td>Used in business</td></tr>" in table.content
    [[page, *box]] = table.positions
    assert page == 3
    assert all(abs(a - b) <= 1.5 for a, b in zip(box, ACM_TABLE_FRAME, strict=True)), box
    assert_box_fits(
        table.positions[0],
        3,
        text_layer_box(
            path.read_bytes(),
            3,
            # This text layer has no spaces: pdfplumber's words are whole cells here.
            ("Non-EnglishorMath", "Frequency", "Comments"),
            ("1in40,000", "Unexplainedusage"),
        ),
    )
    text = "\n".join(chunk.content for chunk in chunks)
    # The conference line heads pages 2-6; only page 1's copyright block keeps it.
    assert text.count("Conference acronym ’XX, June 03–05, 2018, Woodstock, NY") == 1
    assert all(chunk.positions for chunk in chunks)

    hits = rag.retrieve(
        dataset_ids=[dataset.id], question="frequency of special characters Swedish"
    )
    [hit] = [h for h in hits if h.id == table.id]
    assert hit.positions == table.positions


# --- ragflow-sdk 0.27.3 ----------------------------------------------------------------------

SDK27_SCRIPT = """
import json, os, sys
from ragflow_sdk import RAGFlow

rag = RAGFlow(api_key=os.environ["KEY"], base_url=os.environ["URL"])
out = {}
for name, path, question in json.loads(os.environ["PAPERS"]):
    dataset = rag.create_dataset(name=f"kb27-{name}")
    with open(path, "rb") as handle:
        [doc] = dataset.upload_documents([{"display_name": name, "blob": handle.read()}])
    [(doc_id, run, chunk_count, _)] = dataset.parse_documents([doc.id])
    assert doc_id == doc.id and run == "DONE" and chunk_count > 0, (name, run, chunk_count)
    [doc] = dataset.list_documents(id=doc.id)
    chunks = doc.list_chunks(page_size=200)
    assert len(chunks) == chunk_count, (len(chunks), chunk_count)
    hits = rag.retrieve(dataset_ids=[dataset.id], question=question, page_size=100)
    # A chat over the paper cites its chunks, positions included (the reference's own keys).
    chat = rag.create_chat(f"chat-{name}", dataset_ids=[dataset.id])
    answer = list(chat.create_session("pdf").ask(question, stream=False))[-1]
    out[name] = {
        "chunks": [{"id": c.id, "content": c.content, "positions": c.positions} for c in chunks],
        "hits": [{"id": h.id, "content": h.content, "positions": h.positions} for h in hits],
        "cited": [{"id": r["id"], "positions": r["positions"]} for r in answer.reference or []],
    }
print(json.dumps(out))
"""


@pytest.fixture
def sdk27() -> SdkClient:
    try:
        return sdk27_client()
    except SdkUnavailable as exc:
        pytest.skip(str(exc))


def test_sdk_0273_gets_html_tables_and_their_boxes_from_a_generated_and_a_real_paper(
    live_server_url: str, sdk27: SdkClient, tmp_path: Path
) -> None:
    user = User.objects.create_user("sdk27-pdf", password="sdk-password-1")
    key = api_key_create(user=user, generation="v0.27")[1]
    generated = builders.two_column_pdf_bytes()
    (tmp_path / "paper.pdf").write_bytes(generated)
    papers = [
        ("paper.pdf", str(tmp_path / "paper.pdf"), GENERATED_QUESTION),
        ("apssamp.pdf", str(REAL_PDF), REAL_QUESTION),
    ]
    script = tmp_path / "pdf_positions_27.py"
    script.write_text(textwrap.dedent(SDK27_SCRIPT))
    done = subprocess.run(
        [str(sdk27.python), str(script)],
        env={
            "URL": live_server_url,
            "KEY": key,
            "PAPERS": json.dumps(papers),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    for name in ("paper.pdf", "apssamp.pdf"):
        chunks, hits = seen[name]["chunks"], seen[name]["hits"]
        assert all(chunk["positions"] for chunk in chunks), name
        tables = [c for c in chunks if c["content"].startswith("<table>")]
        if name == "paper.pdf":
            [table] = tables
            assert table["content"] == GENERATED_TABLE
            [position] = table["positions"]
            assert_generated_box(position, generated)
        else:
            [table] = [c for c in tables if c["content"].startswith(REAL_TABLE)]
            assert table["content"].endswith("</caption>" + REAL_ROWS), table["content"]
            [position] = table["positions"]
            words = text_layer_box(REAL_PDF.read_bytes(), REAL_PAGE, REAL_FIRST_ROW, REAL_LAST_ROW)
            assert_box_fits(position, REAL_PAGE, words)
        [hit] = [h for h in hits if h["id"] == table["id"]]
        assert hit["positions"] == table["positions"] and hit["content"] == table["content"]
        [cited] = [r for r in seen[name]["cited"] if r["id"] == table["id"]]
        assert cited["positions"] == table["positions"], cited
