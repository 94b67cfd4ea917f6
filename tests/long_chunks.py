"""Long chunks and long answers for the stream-limit tests (issue 18, defect 6).

A dataset whose one chunk is a long run of words without a sentence end, so the built-in
extractive model quotes all of what it is shown of the chunk and the answer grows with it; and an
OpenAI-compatible service whose answer goes on and on.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.db import transaction

from knowledge import embeddings
from knowledge.models import Chunk, Dataset, Document
from knowledge.parsing import count_tokens
from knowledge.services import chunk_store
from knowledge.services.datasets import dataset_create
from knowledge.services.ingest import chunk_id
from ragsite.accounts.models import User

WORDS = "walrus tusks gleam along the kolguev shore while colony keepers count them "
QUESTION = "walrus tusks kolguev colony keepers"


def prose(chars: int) -> str:
    """`chars` characters of words, no sentence end: one long sentence."""
    return (WORDS * (chars // len(WORDS) + 1))[:chars].strip()


def long_chunk_dataset(tenant: User, chars: int) -> Dataset:
    """A dataset with one document holding one chunk of `prose(chars)`.

    Stored as `chunk_add` stores a chunk (segmented text, term statistics, counters), except
    that it is embedded by its first words: embedding a whole megabyte takes minutes, which is
    add-chunk's cost, not what these tests measure, and retrieval finds it by keywords anyway.
    """
    dataset = dataset_create(tenant=tenant, name=f"long {chars}")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="long.txt", type="doc", suffix="txt"
    )
    content = prose(chars)
    vector = embeddings.embed_chunks(dataset.embedding_model, document.name, [content[:2000]])
    chunk = chunk_store.prepare(
        Chunk(
            id=chunk_id(content, document.pk),
            dataset_id=dataset.pk,
            document=document,
            ordinal=1,
            content=content,
            important_keywords=[],
            questions=[],
            available=True,
            token_count=count_tokens(content),
            embedding=vector[0].tolist(),
            embedding_dim=len(vector[0]),
        )
    )
    with transaction.atomic():
        chunk_store.insert_chunks(document, [chunk])
    return dataset


def size(value: Any) -> int:
    """Bytes of `value` as compact UTF-8 JSON."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


ENDLESS_DELTA = "more and more words "


@contextmanager
def endless_model_service(events: int = 2_000) -> Iterator[tuple[str, threading.Event]]:
    """An OpenAI-compatible service (base URL) streaming `ENDLESS_DELTA` `events` times.

    The event is set when the client hangs up before the end. The deltas come at a model's
    pace, so a hang-up is seen rather than absorbed by socket buffers.
    """
    hung_up = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            event = {"choices": [{"delta": {"content": ENDLESS_DELTA}}]}
            line = f"data: {json.dumps(event)}\n\n".encode()
            try:
                for _ in range(events):
                    self.wfile.write(line)
                    self.wfile.flush()
                    time.sleep(0.005)
                self.wfile.write(b"data: [DONE]\n\n")
            except OSError:
                hung_up.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", hung_up
    finally:
        server.shutdown()
        server.server_close()
