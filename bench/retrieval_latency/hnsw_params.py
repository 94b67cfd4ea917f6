"""HNSW recall@10 and vector-query latency per index build parameters, and build-to-build spread.

`python -m bench.retrieval_latency.hnsw_params` (not part of `make bench`): loads the same 100k
chunks as the latency benchmark, then rebuilds the partial HNSW index with each WITH clause
below and measures recall@10 against exact search for a few hnsw.ef_search values (LIMIT 64, as
the API asks). The default parameters are built twice to show how much one build varies.
"""

from __future__ import annotations

import signal
import sys

import psycopg

from bench.retrieval_latency import data as data_mod
from bench.retrieval_latency import loader, measure
from bench.retrieval_latency.bench import API_VECTOR_LIMIT, MINILM, create_documents
from bench.retrieval_latency.stack import Api, running_stack

BUILDS = (
    ("m=16, ef_construction=64 (default) #1", None),
    ("m=16, ef_construction=64 (default) #2", ""),
    ("m=16, ef_construction=128", "WITH (m = 16, ef_construction = 128)"),
    ("m=24, ef_construction=128", "WITH (m = 24, ef_construction = 128)"),
)
EF_VALUES = (40, 100, 200, 400)


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    data = data_mod.build(100_000, 100, 200, 20)
    with running_stack() as stack:
        api = Api(stack.base_url, stack.create_api_key())
        ds = api.create_dataset("hnsw-params", MINILM)
        times, definition = loader.load(
            stack.database_url, ds, create_documents(api, ds, data), data
        )
        measure.setup_django(stack.database_url, stack.var_dir)
        truth = measure.exact_top10(ds, data.question_vectors)
        for label, with_clause in BUILDS:
            seconds = times.index_s
            if with_clause is not None:
                with psycopg.connect(stack.database_url, autocommit=True) as conn:
                    loader.drop_hnsw(conn)
                    sql = definition.replace(" WHERE", f" {with_clause} WHERE".replace("  ", " "))
                    seconds = loader.build_hnsw(conn, sql)
            recall = measure.recall_at_10(
                ds, data.question_vectors, EF_VALUES, (API_VECTOR_LIMIT,), truth
            )[API_VECTOR_LIMIT]
            cells = ", ".join(
                f"ef {ef}: {r.recall_at_10:.3f} ({r.p50_ms:.1f} ms)" for ef, r in recall.items()
            )
            print(f"{label:40} build {seconds:5.1f} s | recall@10 (vector query p50) {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
