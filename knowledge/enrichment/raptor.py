"""RAPTOR: a tree of summaries over a dataset's passages, stored as chunks retrieval finds.

For each unit (each document with `parser_config.raptor.scope` "file", RAGFlow's default; the
whole dataset with "dataset"), the passages' vectors are clustered (knowledge.enrichment.
clustering), each cluster is summarised by the dataset's chat model with the configured prompt,
the summaries are embedded, and the same is done to them, layer after layer, until one summary
is left or RAGSITE_RAPTOR_MAX_LAYERS is reached. A unit's summaries replace its earlier ones in
one transaction, as chunks with `raptor_level` ≥ 1 (RAGFlow's `raptor_kwd`).

Resume: finished units are listed in the job's checkpoint and skipped; within a unit the
clustering is deterministic (the seed), so the summaries asked before a worker died are the
same prompts, answered from the dataset's kept answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction

from knowledge import embeddings
from knowledge.enrichment.clustering import cluster_layer
from knowledge.enrichment.jobs import JobRun
from knowledge.enrichment.session import Ask, EnrichmentError
from knowledge.models import Chunk, Dataset, Document
from knowledge.parser_config import RAPTOR_PROMPT
from knowledge.parsing.tokens import count_tokens
from knowledge.services import chunk_store
from knowledge.services.ingest import chunk_id

SYSTEM_PROMPT = "You're a helpful assistant."
# How much passage text one summary prompt carries at most (characters); each member of a
# cluster gets an equal share.
MAX_PROMPT_CHARS = 12_000
# Clusters summarised per round between progress reports.
ROUND = 8
_TRUNCATION_NOTES = (
    "······\n由于长度的原因，回答被截断了，要继续吗？",
    "For the content length reason, it stopped, continue?",
)


@dataclass
class Node:
    text: str
    vector: np.ndarray
    document_id: str
    chunk_ids: list[str]  # the passages under it


def raptor_settings(dataset: Dataset) -> dict[str, Any]:
    """The dataset's RAPTOR options with RAGFlow's defaults (run_raptor works even when
    `use_raptor` is off, as in RAGFlow)."""
    given = (dataset.parser_config or {}).get("raptor") or {}
    ext = given.get("ext") if isinstance(given.get("ext"), dict) else {}
    layers = ext.get("max_depth") if isinstance(ext, dict) else None
    threshold = given.get("threshold")
    return {
        "prompt": given.get("prompt") or RAPTOR_PROMPT,
        "max_token": int(given.get("max_token") or 256),
        "threshold": float(threshold) if isinstance(threshold, int | float) else 0.1,
        "max_cluster": int(given.get("max_cluster") or 64),
        "random_seed": int(given.get("random_seed") or 0),
        "scope": given.get("scope") or "file",
        "max_layers": int(layers)
        if isinstance(layers, int) and layers > 0
        else settings.RAGSITE_RAPTOR_MAX_LAYERS,
    }


def summary_prompt(template: str, texts: Sequence[str]) -> str:
    share = max(200, MAX_PROMPT_CHARS // max(1, len(texts)))
    content = "\n".join(" ".join(t.split())[:share] for t in texts)
    if "{cluster_content}" in template:
        return template.replace("{cluster_content}", content)
    return f"{template}\n{content}"


def _clean(answer: str) -> str:
    for note in _TRUNCATION_NOTES:
        answer = answer.replace(note, "")
    return answer.strip()


def _leaves(dataset: Dataset, documents: Sequence[Document]) -> list[Node]:
    rows = (
        Chunk.objects.filter(
            dataset=dataset,
            document__in=list(documents),
            raptor_level=0,
            available=True,
            embedding__isnull=False,
        )
        .order_by("document__created_at", "document_id", "ordinal")
        .values_list("pk", "content", "embedding", "document_id")
    )
    return [
        Node(content, np.asarray(vector, dtype=np.float32), doc_id, [pk])
        for pk, content, vector, doc_id in rows
        if content.strip()
    ]


def build_tree(run: JobRun, leaves: list[Node], options: dict[str, Any], *, span: tuple[float, float], label: str) -> list[tuple[int, Node]]:  # fmt: skip
    """The summaries above `leaves`, as (layer, node), lowest layer first."""
    low, high = span
    model = run.dataset.embedding_model
    built: list[tuple[int, Node]] = []
    nodes = leaves
    for layer in range(1, options["max_layers"] + 1):
        if len(nodes) <= 1:
            break
        run.check()
        groups = cluster_layer(
            np.vstack([n.vector for n in nodes]),
            max_clusters=options["max_cluster"],
            threshold=options["threshold"],
            seed=options["random_seed"],
        )
        asks = []
        for group in groups:
            members = [nodes[i] for i in group]
            passages = [c for m in members for c in m.chunk_ids]
            shown = ", ".join(passages[:4]) + (" …" if len(passages) > 4 else "")
            asks.append(
                Ask(
                    messages=[
                        {"role": "system", "content": SYSTEM_PROMPT},
                        {
                            "role": "user",
                            "content": summary_prompt(options["prompt"], [m.text for m in members]),
                        },
                    ],
                    label=f"RAPTOR summary (layer {layer}) of {label}, chunks {shown}",
                    max_tokens=max(options["max_token"], 512),
                )
            )
        answers: list[str] = []
        for start in range(0, len(asks), ROUND):
            answers += run.llm.ask_many(asks[start : start + ROUND])
            done = len(answers) / len(asks)
            fraction = low + (high - low) * (layer - 1 + done) / options["max_layers"]
            run.report(fraction, f"{label}: layer {layer}, summarised {len(answers)}/{len(asks)} clusters.")  # fmt: skip
        texts = [_clean(a) for a in answers]
        keep = [i for i, t in enumerate(texts) if t]
        if not keep:
            raise EnrichmentError(
                f"The chat model {run.llm.config.model_id} answered every RAPTOR summary "
                f"prompt of {label} with an empty text."
            )
        vectors = embeddings.embed_texts(model, [texts[i] for i in keep])
        next_nodes = []
        for row, i in enumerate(keep):
            members = [nodes[j] for j in groups[i]]
            owner = Counter(m.document_id for m in members).most_common(1)[0][0]
            passages = list(dict.fromkeys(c for m in members for c in m.chunk_ids))
            next_nodes.append(Node(texts[i], vectors[row], owner, passages))
        built += [(layer, n) for n in next_nodes]
        run.report(
            low + (high - low) * layer / options["max_layers"],
            f"{label}: layer {layer}: {len(nodes)} -> {len(next_nodes)}.",
            force=True,
        )
        if len(next_nodes) >= len(nodes):
            break  # nothing merged (every cluster a single node)
        nodes = next_nodes
    return built


def _store(dataset: Dataset, documents: Sequence[Document], built: list[tuple[int, Node]]) -> int:
    """Replace the summaries of `documents` with `built`, in one transaction."""
    by_document = {d.pk: d for d in documents}
    with transaction.atomic():
        for document in Document.objects.select_for_update().filter(pk__in=list(by_document)):
            old = list(
                Chunk.objects.filter(document=document, raptor_level__gt=0).values_list(
                    "pk", flat=True
                )
            )
            chunk_store.delete_chunks(document, old)
            by_document[document.pk] = document
        last = {
            d.pk: (
                Chunk.objects.filter(document=d)
                .order_by("-ordinal")
                .values_list("ordinal", flat=True)
                .first()
                or 0
            )  # fmt: skip
            for d in by_document.values()
        }
        rows: dict[str, list[Chunk]] = {}
        seen: set[str] = set()
        for layer, node in built:
            document = by_document[node.document_id]
            key = chunk_id(node.text, f"{document.pk}-raptor")
            if key in seen or Chunk.objects.filter(pk=key).exists():
                continue
            seen.add(key)
            last[document.pk] += 1
            rows.setdefault(document.pk, []).append(
                chunk_store.prepare(
                    Chunk(
                        id=key,
                        dataset_id=dataset.pk,
                        document=document,
                        ordinal=last[document.pk],
                        content=node.text,
                        raptor_level=layer,
                        available=document.enabled,
                        token_count=count_tokens(node.text),
                        embedding=node.vector.tolist(),
                        embedding_dim=int(node.vector.shape[0]),
                    )
                )
            )
        for doc_id, chunks in rows.items():
            chunk_store.insert_chunks(by_document[doc_id], chunks)
    return len(seen)


def run_raptor_job(run: JobRun) -> None:
    """The job runner (knowledge.enrichment.jobs.RUNNERS["raptor"])."""
    options = raptor_settings(run.dataset)
    order = {pk: i for i, pk in enumerate(run.document_ids)}
    documents = sorted(
        Document.objects.filter(dataset=run.dataset, pk__in=run.document_ids),
        key=lambda d: order[d.pk],
    )
    if options["scope"] == "dataset":
        units: list[tuple[str, list[Document], str]] = [("dataset", documents, "the dataset")]
    else:
        units = [(d.pk, [d], f"document {d.name}") for d in documents]
    done: set[str] = set(run.checkpoint.get("done_units", []))
    stored = int(run.checkpoint.get("summaries", 0))
    run.report(run.progress, f"RAPTOR over {len(units)} unit(s), scope {options['scope']}.", force=True)  # fmt: skip
    for index, (key, members, label) in enumerate(units):
        if key in done:
            continue
        span = (index / len(units), (index + 1) / len(units))
        leaves = _leaves(run.dataset, members)
        built = build_tree(run, leaves, options, span=span, label=label) if len(leaves) > 1 else []
        run.check()
        stored += _store(run.dataset, members, built)
        done.add(key)
        run.checkpoint["done_units"] = sorted(done)
        run.checkpoint["summaries"] = stored
        run.report(span[1], f"{label}: {len(built)} summaries from {len(leaves)} chunks.")
        run.save_checkpoint()
    run.report(0.99, f"RAPTOR summaries stored: {stored}.", force=True)


def wipe_raptor(dataset: Dataset) -> int:
    """Delete every RAPTOR summary of the dataset (knowledge.enrichment.jobs.WIPERS)."""
    deleted = 0
    with transaction.atomic():
        owners = set(
            Chunk.objects.filter(dataset=dataset, raptor_level__gt=0).values_list(
                "document_id", flat=True
            )
        )
        for document in Document.objects.select_for_update().filter(pk__in=owners):
            ids = list(
                Chunk.objects.filter(document=document, raptor_level__gt=0).values_list(
                    "pk", flat=True
                )
            )
            deleted += chunk_store.delete_chunks(document, ids)
    return deleted
