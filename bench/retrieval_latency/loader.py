"""Put the cached chunks into ragsite's database as if its parser had stored them.

Dataset and documents are created through the HTTP API (real ownership, real files); the chunk
rows go in with a binary COPY into a temp table and one INSERT … SELECT, then their narrow
`knowledge_chunkterms` rows with the search vector the chunk store's expression computes. Term document
frequencies, documents' and dataset's counters and parse state are set to what
`chunk_store.insert_chunks` and the parser would have left. The dimension's partial HNSW index
is dropped for the load and rebuilt afterwards (timed), then VACUUM ANALYZE.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
import psycopg
import xxhash
from pgvector.psycopg import register_vector

from bench.retrieval_latency.data import Data

HNSW_INDEX = "chunk_embedding_384_hnsw"
HNSW_DEFAULT_DEF = (
    f"CREATE INDEX {HNSW_INDEX} ON knowledge_chunk USING hnsw "
    "((embedding::vector(384)) vector_cosine_ops) WHERE embedding_dim = 384"
)
# What chunk_store.chunk_search_vector() compiles to (verified against Django after the load).
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('simple'::regconfig, COALESCE(s.keywords_ltks, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, COALESCE(s.content_ltks, '')), 'B')"
)
MAX_TERM_LENGTH = 64  # chunk_store.MAX_TERM_LENGTH


@dataclass
class LoadTimes:
    prepare_s: float
    copy_s: float
    index_s: float
    vacuum_s: float

    @property
    def total_s(self) -> float:
        return self.prepare_s + self.copy_s + self.index_s + self.vacuum_s


def index_definition(conn: psycopg.Connection) -> str:
    row = conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE indexname = %s", [HNSW_INDEX]
    ).fetchone()
    return str(row[0]) if row else HNSW_DEFAULT_DEF


def drop_hnsw(conn: psycopg.Connection) -> None:
    conn.execute(f"DROP INDEX IF EXISTS {HNSW_INDEX}")


def build_hnsw(conn: psycopg.Connection, definition: str) -> float:
    """Create the index (2 cores: the leader and one parallel worker); seconds taken."""
    conn.execute("SET maintenance_work_mem = '1GB'")
    conn.execute("SET max_parallel_maintenance_workers = 1")
    started = time.monotonic()
    conn.execute(definition)
    return time.monotonic() - started


def term_frequencies(ltks: list[str]) -> Counter[str]:
    """Per term, how many chunks contain it: chunk_store.chunk_terms over every chunk."""
    counts: Counter[str] = Counter()
    for text in ltks:
        counts.update({w for w in text.split() if len(w) <= MAX_TERM_LENGTH})
    return counts


def load(
    url: str, dataset_id: str, documents: list[tuple[str, str]], data: Data
) -> tuple[LoadTimes, str]:
    """COPY the chunks of `documents` [(id, name)] (equal shares, in order); (times, index def)."""
    from knowledge.parsing.tokens import count_tokens

    started = time.monotonic()
    n = len(data.passages)
    per_doc = n // len(documents)
    tokens = [count_tokens(p.text) for p in data.passages]
    df = term_frequencies(data.ltks)
    prepare_s = time.monotonic() - started

    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        definition = index_definition(conn)
        drop_hnsw(conn)
        started = time.monotonic()
        with conn.transaction():
            conn.execute(
                "CREATE TEMP TABLE staging (id text, document_id text, ordinal int4, content text,"
                " content_ltks text, keywords_ltks text, token_count int4, embedding vector)"
                " ON COMMIT DROP"
            )
            with conn.cursor().copy("COPY staging FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["text", "text", "int4", "text", "text", "text", "int4", "vector"])
                for index, passage in enumerate(data.passages):
                    doc_id = documents[min(index // per_doc, len(documents) - 1)][0]
                    chunk_id = xxhash.xxh64((passage.text + doc_id).encode()).hexdigest()
                    copy.write_row(
                        (chunk_id, doc_id, index % per_doc, passage.text, data.ltks[index], "",
                         tokens[index], np.asarray(data.vectors[index], dtype=np.float32))
                    )  # fmt: skip
            conn.execute(
                """
                INSERT INTO knowledge_chunk (id, dataset_id, document_id, ordinal, content,
                    content_ltks, keywords_ltks, important_keywords, questions, tags,
                    tag_weights, raptor_level, image_id, image_location, available, page_numbers,
                    positions, token_count, embedding, embedding_dim, created_at)
                SELECT s.id, %s, s.document_id, s.ordinal, s.content, s.content_ltks,
                    s.keywords_ltks, '[]'::jsonb, '[]'::jsonb, '[]'::jsonb, '{}'::jsonb, 0, '',
                    '', true, '{}'::int[], '[]'::jsonb, s.token_count, s.embedding, 384, now()
                FROM staging s ORDER BY s.document_id, s.ordinal
                """,  # noqa: S608 - constant SQL
                [dataset_id],
            )
            # chunk_store.insert_chunks's narrow row with each chunk's search vector (ChunkTerms).
            conn.execute(
                f"""
                INSERT INTO knowledge_chunkterms (chunk_id, dataset_id, document_id, available,
                    search_vector)
                SELECT s.id, s.dataset_id, s.document_id, s.available, {SEARCH_VECTOR_SQL}
                FROM knowledge_chunk s WHERE s.dataset_id = %s
                """,  # noqa: S608 - constant SQL
                [dataset_id],
            )
            terms = sorted(df)
            conn.execute(
                """
                INSERT INTO knowledge_termstat (dataset_id, term, df)
                SELECT %s, term, df FROM unnest(%s::text[], %s::int[]) AS t(term, df)
                ON CONFLICT (dataset_id, term) DO UPDATE SET df = knowledge_termstat.df + EXCLUDED.df
                """,
                [dataset_id, terms, [df[t] for t in terms]],
            )
            conn.execute(
                """
                UPDATE knowledge_document d SET chunk_count = d.chunk_count + c.n,
                    token_count = d.token_count + c.tokens, run = '3', progress = 1.0,
                    progress_msg = to_char(now(), 'HH24:MI:SS') || ' Task done: '
                        || c.n || ' chunks (bulk-loaded by bench/retrieval_latency).',
                    process_begin_at = now(), heartbeat_at = NULL
                FROM (SELECT document_id, count(*) AS n, sum(token_count) AS tokens
                      FROM knowledge_chunk WHERE dataset_id = %s GROUP BY document_id) c
                WHERE d.id = c.document_id
                """,
                [dataset_id],
            )
            conn.execute(
                """
                UPDATE knowledge_dataset SET chunk_count = chunk_count + %s,
                    token_count = token_count + %s WHERE id = %s
                """,
                [n, sum(tokens), dataset_id],
            )
        copy_s = time.monotonic() - started
        index_s = build_hnsw(conn, definition)
        started = time.monotonic()
        conn.execute("VACUUM ANALYZE knowledge_chunk")
        conn.execute("VACUUM ANALYZE knowledge_chunkterms")
        conn.execute("VACUUM ANALYZE knowledge_termstat")
        vacuum_s = time.monotonic() - started
    return LoadTimes(prepare_s, copy_s, index_s, vacuum_s), definition
