"""The chunk's search vector is kept in its ChunkTerms row only (the keyword leg and the chunk
list read it there since 0011); the wide chunk row drops its copy and GIN index."""

from django.db import migrations

# Going back, the chunk's column is filled again from the narrow rows.
REFILL = """
UPDATE knowledge_chunk c SET search_vector = t.search_vector
FROM knowledge_chunkterms t WHERE t.chunk_id = c.id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0011_chunk_terms"),
    ]

    operations = [
        migrations.RunSQL(migrations.RunSQL.noop, REFILL),
        migrations.RemoveIndex(
            model_name="chunk",
            name="chunk_search_vector_gin",
        ),
        migrations.RemoveField(
            model_name="chunk",
            name="search_vector",
        ),
    ]
