"""Retrieval latency at 100k chunks: `python -m bench.retrieval_latency` (`make bench-latency`).

Loads 100k generated passages into one dataset of a fresh ragsite (launcher in a temp dir),
then measures POST /api/v1/retrieval with 4 concurrent clients using the HNSW index and, in
the same run, with the index dropped (exact search); plus per-step timings in-process, HNSW
recall@10 against exact search, and EXPLAIN ANALYZE of one query. See README.md.
"""
