"""Hybrid retrieval: keyword (BM25 over jieba terms) + vector (pgvector HNSW), then re-scoring.

The only module that writes pgvector SQL. The contract's scoring (§4.6) is kept:
    similarity = w × vector_similarity + (1 − w) × term_similarity
with both parts in 0..1.

- `term_similarity` is Okapi BM25 (k1 1.2, b 0.75) over the question's terms without stop
  words, divided by what a chunk holding every term once at average length would score (or by
  the best candidate's score when one scores more), so the keyword leg alone orders chunks
  exactly as BM25 does, and the value reads as "how much of the question this chunk holds".
  In a hybrid ranking each term's part is capped at one average occurrence (HYBRID_TF_CAP).
  IDF comes from per-dataset document frequencies the chunk store keeps exact (`TermStat`).
- An English term also matches its inflected forms that chunks hold (`fulltext.variants`:
  `requirements` finds `requirement`), scored as one term by the best-matching form.
- A Chinese question also searches the English glosses of its words (`crosslingual`: a
  computing glossary, then CC-CEDICT), each word's glosses counting as one term (the
  best-matching gloss scores), at TRANSLATED_TERM_WEIGHT of its IDF in a hybrid ranking.
- `vector_similarity` is the cosine divided by the best candidate's cosine, or by
  VECTOR_FLOOR (0.5) when even the best is lower, both measured from VECTOR_BASELINE (0.1)
  (the rerank score when a rerank model is used): cosines of small models crowd into
  0.2–0.7, so raw cosine left the semantic side a fraction of its weight, and a chunk found by
  meaning alone ("minimum hardware requirements" → a list of CPU, RAM and disk sizes, cosine
  0.40) never reached the default threshold 0.2. The floor keeps a question nothing answers
  (every cosine low) under it. On bench/real_docs (dev) this took the default hybrid from
  0.895 to 0.916 nDCG@10.

Both legs' candidates and the rows come back from one SQL statement; knowledge.scoring turns
them into these scores (BM25, cosine scaling, the weighted sum). The keyword leg reads the
chunks' search vectors from their narrow rows (`ChunkTerms`), not from the wide chunk rows.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from knowledge import scoring

# HNSW search breadth. On graphs built with ef_construction 200 (migration 0013),
# bench/retrieval_latency at 100k chunks measured recall@10 against exact search (LIMIT 64, as
# the API asks) of 0.943 / 0.963 / 0.971 at 100 / 150 / 200 (3.5 / 3.9 / 4.8 ms of PostgreSQL
# CPU per vector query) on one build, 0.939 / 0.959 at 100 / 200 on another (built by the
# migration with less memory); the default graph (ef_construction 64) needed 500 for 0.960
# (7.3 ms). 200 keeps recall@10 above 0.95 across builds.
EF_SEARCH = 200
# The keyword leg looks candidates up by the question's rarest terms, adding terms while their
# posting lists hold at most this many chunks in all: the GIN lookup and ts_rank then touch a
# bounded number of rows however large the dataset. Common terms still count in scoring.
# 3000 -> 1500 at 100k chunks (~2,600 -> ~1,400 rows ordered per query): -1.7 ms of PostgreSQL
# CPU per retrieve(); source passages in the top 10 77 -> 77 of 200 (1000: 79, -2.0 ms);
# bench/real_docs (1,558 chunks) unchanged to the third decimal in every group.
CANDIDATE_POSTINGS_BUDGET = 1500
# Keyword candidates per query (more when a deep page asks for more, up to top_k, as the vector
# leg). 200 -> 100 at 100k chunks: -2.3 ms of Python and -2.3 ms of PostgreSQL CPU per retrieve()
# (each candidate's row, cosine and BM25); the questions' source passages in the top 10 78 -> 77
# of 200; bench/real_docs hybrid nDCG@10 dev/test 0.937/0.921 -> 0.938/0.920.
KEYWORD_CANDIDATES = 100
MIN_VECTOR_CANDIDATES = 64


@dataclass
class Scope:
    """Which chunks a query may see: always a set of datasets, optionally some documents."""

    dataset_ids: Sequence[str]
    document_ids: Sequence[str] | None = None


@dataclass
class Query:
    question: str
    scope: Scope
    embedding: Sequence[float] | None
    vector_similarity_weight: float = 0.3
    similarity_threshold: float = 0.2
    top_k: int = 1024
    page: int = 1
    page_size: int = 30
    highlight: bool = True
    pagerank: dict[str, int] = field(default_factory=dict)
    # Replaces cosine when given: scores (0..1) for texts, in order.
    rerank: Callable[[str, list[str]], list[float]] | None = None


@dataclass
class Hit:
    id: str
    content: str
    content_ltks: str
    document_id: str
    document_name: str
    dataset_id: str
    important_keywords: list[str]
    questions: list[str]
    positions: list[Any]
    page_numbers: list[int]
    similarity: float = 0.0
    vector_similarity: float = 0.0
    term_similarity: float = 0.0
    highlight: str = ""
    rank: float = 0.0


@dataclass
class Result:
    hits: list[Hit]
    total: int
    doc_aggs: list[dict[str, Any]]


def _vector_literal(values: Sequence[float]) -> str:
    return "[" + ",".join(f"{v:.7g}" for v in values) + "]"


def _scope_sql(scope: Scope) -> tuple[str, list[Any]]:
    sql = "c.dataset_id = ANY(%s) AND c.available"
    params: list[Any] = [list(scope.dataset_ids)]
    if scope.document_ids:
        sql += " AND c.document_id = ANY(%s)"
        params.append(list(scope.document_ids))
    return sql, params


def vector_candidates(
    scope: Scope, embedding: Sequence[float], limit: int, *, exact: bool = False
) -> dict[str, float]:
    """Nearest chunks by cosine: {chunk id: cosine similarity}.

    The cast to vector(<dim>) and `embedding_dim = <dim>` let the planner use that dimension's
    partial HNSW index; `exact` turns index scans off (for measuring recall).
    """
    dim = len(embedding)
    where, params = _scope_sql(scope)
    vector = _vector_literal(embedding)
    sql = f"""
        SELECT c.id, 1 - ((c.embedding::vector({dim})) <=> %s::vector({dim})) AS cosine
        FROM knowledge_chunk c
        WHERE c.embedding_dim = %s AND {where}
        ORDER BY (c.embedding::vector({dim})) <=> %s::vector({dim})
        LIMIT %s
    """  # noqa: S608 - dim is an int; every value is a parameter
    with transaction.atomic(), connection.cursor() as cursor:
        if exact:
            cursor.execute("SET LOCAL enable_indexscan = off")
        else:
            # pgvector accepts ef_search up to 1000.
            cursor.execute(f"SET LOCAL hnsw.ef_search = {min(1000, max(EF_SEARCH, limit))}")
            # pgvector 0.8: keep scanning the graph until enough rows pass the filters.
            cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute(sql, [vector, dim, *params, vector, limit])
        return {row[0]: float(row[1]) for row in cursor.fetchall()}


def tsquery_for(terms: Sequence[str]) -> str:
    """A `to_tsquery` string matching any of `terms`, each quoted as one lexeme."""
    quoted = ("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in terms)
    return " | ".join(quoted)


def keyword_candidates(scope: Scope, terms: Sequence[str], limit: int) -> list[str]:
    """Chunks containing any of `terms` (GIN index of their narrow rows), best-matching first."""
    if not terms:
        return []
    where, params = _scope_sql(scope)
    sql = f"""
        SELECT c.chunk_id FROM knowledge_chunkterms c, to_tsquery('simple', %s) q
        WHERE {where} AND c.search_vector @@ q
        ORDER BY ts_rank(c.search_vector, q) DESC
        LIMIT %s
    """  # noqa: S608 - only placeholders are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql, [tsquery_for(terms), *params, limit])
        return [row[0] for row in cursor.fetchall()]


def document_frequencies(dataset_ids: Sequence[str], terms: Sequence[str]) -> dict[str, int]:
    """How many chunks of the datasets hold each term (TermStat), absent terms left out.

    Plain SQL: on every request, and the ORM's aggregate query cost ~1 ms of Python to build.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT term, SUM(df) FROM knowledge_termstat"
            " WHERE dataset_id = ANY(%s) AND term = ANY(%s) GROUP BY term",
            [list(dataset_ids), list(terms)],
        )
        return {term: int(total) for term, total in cursor.fetchall()}


def candidate_terms(terms: Sequence[str], df: dict[str, int]) -> list[str]:
    """The rarest present terms whose postings fit the budget (at least the rarest one)."""
    chosen: list[str] = []
    postings = 0
    for term in sorted((t for t in terms if df.get(t, 0) > 0), key=lambda t: (df[t], t)):
        if chosen and postings + df[term] > CANDIDATE_POSTINGS_BUDGET:
            break
        chosen.append(term)
        postings += df[term]
    return chosen


# What scoring needs of every candidate; the rest of a row is fetched for the returned page only
# (`page_rows`): of ~260 candidates 10 or 30 are returned.
_ROW_NAMES = ("id", "content_ltks", "keywords_ltks", "document_id", "dataset_id", "cosine")
_PAGE_NAMES = (
    "id", "content", "document_name", "important_keywords", "questions", "positions",
    "page_numbers",
)  # fmt: skip


def candidate_rows(
    scope: Scope,
    *,
    search_terms: Sequence[str],
    term_weights: dict[str, float],
    keyword_limit: int,
    embedding: Sequence[float] | None,
    vector_limit: int,
    with_content: bool = False,
) -> list[dict[str, Any]]:
    """Both legs' candidates, with what scoring needs of them, in one statement.

    Keyword candidates: chunks holding any of `search_terms` (GIN index), the ones holding the
    most IDF weight of the question's terms first. Vector candidates: the `vector_limit`
    nearest by cosine (HNSW). Each row carries its cosine when `embedding` is given, and its
    `content` with `with_content` (a rerank model reads every candidate).
    """
    where, scope_params = _scope_sql(scope)
    legs: list[str] = []
    params: list[Any] = []
    cosine = "NULL"
    cosine_params: list[Any] = []
    vector = _vector_literal(embedding) if embedding is not None else ""
    dim = len(embedding) if embedding is not None else 0
    if embedding is not None:
        cosine = (
            f"CASE WHEN c.embedding_dim = {dim} "
            f"THEN 1 - ((c.embedding::vector({dim})) <=> %s::vector({dim})) END"
        )
        cosine_params = [vector]
    if search_terms and keyword_limit > 0:
        # float8: the weights bound client-side read as numeric literals, whose sums cost
        # ~1 ms of PostgreSQL CPU more per query over ~2,600 matching chunks at 100k.
        weighted = (
            " + ".join(
                "CASE WHEN c.search_vector @@ to_tsquery('simple', %s) THEN %s::float8 ELSE 0 END"
                for _ in term_weights
            )
            or "0"
        )
        # The narrow copies of the search vectors (ChunkTerms), stored uncompressed in their
        # rows: each term's test reads the vector where it lies. (The chunk's own row is wide
        # and its compressed vector TOASTed: a lookup and a decompression per row, which the
        # keyword leg paid for thousands of rows.)
        legs.append(f"""(
            SELECT c.chunk_id FROM knowledge_chunkterms c, to_tsquery('simple', %s) q
            WHERE {where} AND c.search_vector @@ q
            ORDER BY {weighted} DESC, ts_rank(c.search_vector, q) DESC, c.chunk_id
            LIMIT %s)""")  # noqa: S608 - only placeholders are interpolated
        params += [tsquery_for(search_terms), *scope_params]
        for term, weight in term_weights.items():
            params += [tsquery_for([term]), weight]
        params.append(keyword_limit)
    if embedding is not None and vector_limit > 0:
        legs.append(f"""(
            SELECT c.id FROM knowledge_chunk c
            WHERE c.embedding_dim = %s AND {where}
            ORDER BY (c.embedding::vector({dim})) <=> %s::vector({dim})
            LIMIT %s)""")  # noqa: S608 - dim is an int; every value is a parameter
        params += [dim, *scope_params, vector, vector_limit]
    if not legs:
        return []
    content = ", c.content" if with_content else ""
    sql = f"""
        SELECT c.id, c.content_ltks, c.keywords_ltks, c.document_id, c.dataset_id,
               {cosine}{content}
        FROM knowledge_chunk c
        WHERE c.id IN ({" UNION ".join(legs)})
    """  # noqa: S608 - dim is an int; values are parameters
    statement = connection.ops.compose_sql(sql, [*cosine_params, *params])  # type: ignore[attr-defined]
    if embedding is not None and vector_limit > 0:
        # pgvector accepts ef_search up to 1000; iterative scans (0.8) keep walking the graph
        # until enough rows pass the scope filter. Sent with the query as one message (bound
        # client-side by psycopg), whose statements PostgreSQL runs as one transaction: the
        # settings hold for this query only, and it costs one round trip.
        statement = (
            f"SET LOCAL hnsw.ef_search = {min(1000, max(EF_SEARCH, vector_limit))}; "
            f"SET LOCAL hnsw.iterative_scan = relaxed_order; {statement}"
        )
    with connection.cursor() as cursor:
        cursor.execute(statement)
        while cursor.description is None and cursor.nextset():
            pass
        names = (*_ROW_NAMES, "content") if with_content else _ROW_NAMES
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def page_rows(ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The rest of the rows of the chunks a page returns, by id."""
    if not ids:
        return {}
    sql = """
        SELECT c.id, c.content, d.name, c.important_keywords, c.questions, c.positions,
               c.page_numbers
        FROM knowledge_chunk c JOIN knowledge_document d ON d.id = c.document_id
        WHERE c.id = ANY(%s)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(ids)])
        rows = [dict(zip(_PAGE_NAMES, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        # Django's psycopg setup hands jsonb to raw cursors as text (JSONField decodes it).
        for key in ("important_keywords", "questions", "positions"):
            if isinstance(row[key], str):
                row[key] = json.loads(row[key])
    return {row["id"]: row for row in rows}


def retrieve(query: Query, *, total_chunks: int) -> Result:
    """Rank the chunks in scope for `query.question` and return one page of hits."""
    groups = scoring.question_groups(query.question)
    terms = list(dict.fromkeys(t for g in groups for t in g.alternatives))
    if not query.question.strip() or (not terms and query.embedding is None):
        return Result([], 0, [])
    n = max(total_chunks, 1)
    df = document_frequencies(query.scope.dataset_ids, terms) if terms else {}
    scorer = scoring.TermScorer.build(groups, df, n)
    # Candidates are ordered by the IDF weight they hold: each group's best alternative.
    order_weights = {t: scorer.idf[t] for g in scorer.groups for t in g.alternatives if df.get(t)}

    use_vectors = query.embedding is not None and query.vector_similarity_weight > 0
    wanted = max(MIN_VECTOR_CANDIDATES, 2 * query.page * query.page_size)
    rows = candidate_rows(
        query.scope,
        search_terms=candidate_terms(terms, df),
        term_weights=order_weights,
        keyword_limit=max(KEYWORD_CANDIDATES, min(query.top_k, wanted)),
        embedding=query.embedding,
        vector_limit=max(1, min(query.top_k, wanted)) if use_vectors else 0,
        with_content=query.rerank is not None,
    )
    if not rows:
        return Result([], 0, [])

    term_parts = scoring.term_similarities(
        scorer, [(r["content_ltks"], r["keywords_ltks"]) for r in rows], hybrid=use_vectors
    )
    rerank_scores = (
        query.rerank(query.question, [r["content"] for r in rows]) if query.rerank else None
    )
    hits: list[Hit] = []
    for index, row in enumerate(rows):
        cosine = max(0.0, min(1.0, float(row["cosine"] or 0.0)))
        vector = rerank_scores[index] if rerank_scores is not None else cosine
        hits.append(
            Hit(
                id=row["id"],
                content="",  # with the rest of the row, for the returned page only
                content_ltks=row["content_ltks"],
                document_id=row["document_id"],
                document_name="",
                dataset_id=row["dataset_id"],
                important_keywords=[],
                questions=[],
                positions=[],
                page_numbers=[],
                vector_similarity=vector,
                term_similarity=term_parts[index],
            )
        )
    only_terms = all(h.vector_similarity == 0 for h in hits)
    confidence = scoring.scale_vectors(hits) if rerank_scores is None else 1.0
    scoring.fuse(hits, query.vector_similarity_weight, confidence, only_terms=only_terms)
    for hit in hits:
        # The dataset's page rank (0–100) is a rank feature added on top, as in RAGFlow.
        hit.rank = hit.similarity + query.pagerank.get(hit.dataset_id, 0) / 100

    kept = sorted(
        (h for h in hits if h.similarity >= query.similarity_threshold),
        key=lambda h: (h.rank, h.id),
        reverse=True,
    )
    start = (max(query.page, 1) - 1) * max(query.page_size, 0)
    page = kept[start : start + max(query.page_size, 0)]
    details = page_rows([h.id for h in page])
    # A chunk deleted between the two statements is left out.
    page = [h for h in page if h.id in details]
    for hit in page:
        row = details[hit.id]
        hit.content = row["content"]
        hit.document_name = row["document_name"]
        hit.important_keywords = list(row["important_keywords"] or [])
        hit.questions = list(row["questions"] or [])
        hit.positions = list(row["positions"] or [])
        hit.page_numbers = list(row["page_numbers"] or [])
    marked = [t for g in scorer.groups for t in g.alternatives] or terms
    for hit in page:
        hit.highlight = scoring.highlight(hit.content, marked) if query.highlight else hit.content
    counts = Counter(h.document_id for h in page)
    names = {h.document_id: h.document_name for h in page}
    doc_aggs = [
        {"doc_name": names[doc_id], "doc_id": doc_id, "count": count}
        for doc_id, count in counts.most_common()
    ]
    return Result(page, len(kept), doc_aggs)


# --- Knowledge-graph entities (knowledge.services.graph_search) -----------------------------

_ENTITY_NAMES = (
    "id", "dataset_id", "name", "entity_type", "description", "pagerank", "communities",
    "cosine",
)  # fmt: skip


def graph_entity_candidates(
    dataset_ids: Sequence[str],
    *,
    terms: Sequence[str],
    embedding: Sequence[float] | None,
    keyword_limit: int = 64,
    vector_limit: int = 16,
) -> list[dict[str, Any]]:
    """Entities of the datasets' graphs that a question may be about: those whose name or
    description holds any of `terms` (GIN), and the `vector_limit` nearest to `embedding` by
    cosine (an exact scan: a graph has far fewer entities than chunks). Each row carries its
    cosine (None without an embedding of the same dimension)."""
    legs: list[str] = []
    params: list[Any] = []
    cosine, cosine_params = "NULL", []
    if embedding is not None:
        dim = len(embedding)
        vector = _vector_literal(embedding)
        cosine = (
            f"CASE WHEN e.embedding_dim = {dim} "
            f"THEN 1 - ((e.embedding::vector({dim})) <=> %s::vector({dim})) END"
        )
        cosine_params = [vector]
        if vector_limit > 0:
            legs.append(f"""(
                SELECT e.id FROM knowledge_graphentity e
                WHERE e.dataset_id = ANY(%s) AND e.embedding_dim = %s
                ORDER BY (e.embedding::vector({dim})) <=> %s::vector({dim})
                LIMIT %s)""")  # noqa: S608 - dim is an int; every value is a parameter
            params += [list(dataset_ids), dim, vector, vector_limit]
    if terms and keyword_limit > 0:
        legs.append("""(
            SELECT e.id FROM knowledge_graphentity e, to_tsquery('simple', %s) q
            WHERE e.dataset_id = ANY(%s) AND e.search_vector @@ q
            ORDER BY ts_rank(e.search_vector, q) DESC, e.id
            LIMIT %s)""")
        params += [tsquery_for(terms), list(dataset_ids), keyword_limit]
    if not legs:
        return []
    sql = f"""
        SELECT e.id, e.dataset_id, e.name, e.entity_type, e.description, e.pagerank,
               e.communities, {cosine}
        FROM knowledge_graphentity e
        WHERE e.id IN ({" UNION ".join(legs)})
    """  # noqa: S608 - dim is an int; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*cosine_params, *params])
        rows = [dict(zip(_ENTITY_NAMES, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        if isinstance(row["communities"], str):
            row["communities"] = json.loads(row["communities"])
    return rows


# --- memories (RAGFlow v0.27 messages) ---------------------------------------------------------


def memory_message_candidates(
    memory_ids: Sequence[str],
    *,
    embedding: Sequence[float] | None,
    terms: Sequence[str],
    filters: dict[str, str],
    limit: int,
) -> dict[int, float]:
    """Messages of `memory_ids` to score for a search: {message id: cosine (0 when not embedded
    with this model)}.

    Only enabled messages that are not forgotten take part. Candidates are the `limit` nearest
    by cosine plus up to `limit` holding any of `terms`. The scan is exact: a memory holds at
    most 10 MiB of messages, a few thousand rows, and every memory is filtered first.
    `filters` are exact matches on `agent_id`, `session_id` and `user_id`.
    """
    where = "m.memory_id = ANY(%s) AND m.status AND m.forget_at IS NULL"
    scope: list[Any] = [list(memory_ids)]
    for column in ("agent_id", "session_id", "user_id"):
        if filters.get(column):
            where += f" AND m.{column} = %s"
            scope.append(filters[column])
    legs: list[str] = []
    params: list[Any] = []
    cosine = "0"
    cosine_params: list[Any] = []
    if embedding is not None:
        dim = len(embedding)
        vector = _vector_literal(embedding)
        cosine = (
            f"CASE WHEN m.embedding_dim = {dim} "
            f"THEN 1 - ((m.embedding::vector({dim})) <=> %s::vector({dim})) ELSE 0 END"
        )
        cosine_params = [vector]
        legs.append(f"""(
            SELECT m.message_id FROM agents_memorymessage m
            WHERE m.embedding_dim = %s AND {where}
            ORDER BY (m.embedding::vector({dim})) <=> %s::vector({dim})
            LIMIT %s)""")  # noqa: S608 - dim is an int; every value is a parameter
        params += [dim, *scope, vector, limit]
    if terms:
        legs.append(f"""(
            SELECT m.message_id FROM agents_memorymessage m, to_tsquery('simple', %s) q
            WHERE {where} AND m.search_vector @@ q
            ORDER BY ts_rank(m.search_vector, q) DESC, m.message_id DESC
            LIMIT %s)""")  # noqa: S608 - only placeholders are interpolated
        params += [tsquery_for(terms), *scope, limit]
    if not legs:
        return {}
    sql = f"""
        SELECT m.message_id, {cosine} FROM agents_memorymessage m
        WHERE m.message_id IN ({" UNION ".join(legs)})
    """  # noqa: S608 - dim is an int; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*cosine_params, *params])
        return {int(row[0]): max(0.0, float(row[1] or 0.0)) for row in cursor.fetchall()}
