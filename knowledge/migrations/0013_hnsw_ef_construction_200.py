"""The chunks' HNSW indexes are built with ef_construction 200 (pgvector's default is 64).

bench/retrieval_latency at 100k chunks (2026-12-06): a graph built with 64 reached recall@10
0.960 against exact search at ef_search 500 (7.3 ms of PostgreSQL CPU per vector query); one
built with 200 reaches 0.963 at ef_search 150 (3.9 ms) and 0.971 at 200 (4.8 ms). Queries
then search a narrower beam (knowledge.retrieval.EF_SEARCH 200) for the same recall; building
and inserting cost more (54 s instead of ~20 s for 100k vectors). m stays 16 (m 24 with
ef_construction 128: 0.958 at ef_search 150, 4.8 ms). Rebuilt concurrently: writes go on
meanwhile.
"""

from django.db import migrations

# As 0002_documents_chunks_providers.HNSW_DIMENSIONS (a migration does not import another).
HNSW_DIMENSIONS = (384, 512, 768, 1024, 1536)


def rebuild(dim: int, options: str) -> list[str]:
    return [
        f"ALTER INDEX chunk_embedding_{dim}_hnsw {options}",
        # A graph larger than maintenance_work_mem (64 MB by default) is built far more slowly:
        # the 100k-chunk bench database took ~3 min under load with 64 MB. This session only.
        "SET maintenance_work_mem = '512MB'",
        f"REINDEX INDEX CONCURRENTLY chunk_embedding_{dim}_hnsw",
        "RESET maintenance_work_mem",
    ]


class Migration(migrations.Migration):
    atomic = False  # REINDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("knowledge", "0012_chunk_vector_in_chunkterms_only"),
    ]

    operations = [
        migrations.RunSQL(
            rebuild(dim, "SET (ef_construction = 200)"),
            reverse_sql=rebuild(dim, "RESET (ef_construction)"),
        )
        for dim in HNSW_DIMENSIONS
    ]
