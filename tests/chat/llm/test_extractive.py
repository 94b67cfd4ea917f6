"""The built-in extractive model: it quotes the right sentences, cites them and streams them."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from chat.llm import ChatRequest, KnowledgeChunk, Message
from chat.llm.extractive import (
    CODE_PIECE_CHARS,
    MAX_UNITS,
    NO_DATASETS_EN,
    NOT_FOUND_EN,
    NOT_FOUND_ZH,
    ExtractiveChatModel,
    _question_groups,
    compose_answer,
    passages,
    score_passages,
    select_passages,
    split_sentences,
)

WALKTHROUGH_TEXT = (
    "RAGFlow-compatible servers store knowledge in datasets.\n"
    "The walrus colony on Kolguev island was counted at 4312 animals in 2019.\n"
    "Postgres with pgvector keeps one embedding per chunk."
)


def walkthrough_knowledge() -> list[KnowledgeChunk]:
    """The acceptance walkthrough's document, retrieved as several identical chunks."""
    return [KnowledgeChunk(i, WALKTHROUGH_TEXT, "walkthrough.txt") for i in range(4)]


def ask(
    question: str,
    knowledge: list[KnowledgeChunk],
    *,
    quote: bool = True,
    has_datasets: bool = True,
) -> list[str]:
    """The streamed pieces of the extractive model's answer."""
    request = ChatRequest(
        system="",
        history=[Message("user", "Hello"), Message("assistant", "Hi!")],
        question=question,
        knowledge=knowledge,
        quote=quote,
        has_datasets=has_datasets,
    )

    async def collect() -> list[str]:
        return [piece async for piece in ExtractiveChatModel().stream(request)]

    return asyncio.run(collect())


def answer(question: str, knowledge: list[KnowledgeChunk], **kwargs: bool) -> str:
    return "".join(ask(question, knowledge, **kwargs))


def compose_one(question: str, text: str, name: str, embedding_model: str) -> str:
    """The whole answer to `question` over one chunk, with `embedding_model` ("" for none)."""
    request = ChatRequest(
        system="",
        history=[],
        question=question,
        knowledge=[KnowledgeChunk(0, text, name)],
        embedding_model=embedding_model,
    )
    return compose_answer(request)


def compose_with_minilm(question: str, text: str, name: str) -> str:
    """The whole answer to `question` over one chunk, passages ranked by the built-in MiniLM."""
    return compose_one(question, text, name, "sentence-transformers/all-MiniLM-L6-v2@Builtin")


def test_walrus_question_is_answered_with_the_count() -> None:
    text = answer("How many walruses were counted on Kolguev island?", walkthrough_knowledge())
    assert "4312" in text
    assert "pgvector" not in text and "datasets" not in text
    assert text.endswith("[ID:0]")


def test_pgvector_question_is_answered_with_embedding() -> None:
    text = answer("What does pgvector keep per chunk?", walkthrough_knowledge())
    assert "embedding" in text
    assert "walrus" not in text


def test_repeated_sentences_are_quoted_once() -> None:
    text = answer("How many walruses were counted on Kolguev island?", walkthrough_knowledge())
    assert text.count("4312") == 1
    assert text.count("[ID:") == 1


def test_citations_point_at_the_chunk_the_sentence_came_from() -> None:
    knowledge = [
        KnowledgeChunk(0, "Tax forms are due in April. Late filing costs a fee.", "tax.txt"),
        KnowledgeChunk(1, "The lighthouse on Vinga was lit in 1890.", "vinga.txt"),
        KnowledgeChunk(2, "Kolguev island has a walrus colony of 4312 animals.", "kolguev.txt"),
    ]
    text = answer("When was the Vinga lighthouse lit?", knowledge)
    assert text == "The lighthouse on Vinga was lit in 1890. [ID:1]"
    text = answer("How large is the walrus colony on Kolguev?", knowledge)
    assert text == "Kolguev island has a walrus colony of 4312 animals. [ID:2]"


def test_several_relevant_sentences_keep_their_reading_order() -> None:
    knowledge = [
        KnowledgeChunk(0, "Walruses on Kolguev feed on clams.", "a.txt"),
        KnowledgeChunk(1, "Tax forms are due in April.", "b.txt"),
        KnowledgeChunk(2, "Walruses on Kolguev haul out on the beaches in summer.", "c.txt"),
    ]
    text = answer("What do walruses on Kolguev do?", knowledge)
    assert text.index("clams") < text.index("beaches")
    assert "[ID:0]" in text and "[ID:2]" in text and "Tax" not in text


def test_quote_false_leaves_out_the_markers() -> None:
    text = answer(
        "How many walruses were counted on Kolguev island?", walkthrough_knowledge(), quote=False
    )
    assert "4312" in text
    assert "[ID:" not in text


def test_chinese_question_picks_the_right_chinese_sentence() -> None:
    knowledge = [
        KnowledgeChunk(0, "北京是中国的首都。上海是中国最大的城市，人口超过两千万。", "城市.txt"),
        KnowledgeChunk(1, "长城全长约两万一千公里！大熊猫主要生活在四川的山区。", "中国.txt"),
    ]
    assert answer("大熊猫生活在哪里？", knowledge) == "大熊猫主要生活在四川的山区。 [ID:1]"
    text = answer("中国最大的城市是哪个？", knowledge)
    assert "上海" in text and "[ID:0]" in text and "长城" not in text


def test_nothing_relevant_gives_the_plain_sentence_in_the_question_language() -> None:
    assert answer("What is the capital of France?", walkthrough_knowledge()) == NOT_FOUND_EN
    assert answer("火星上有水吗？", walkthrough_knowledge()) == NOT_FOUND_ZH


def test_empty_knowledge_says_nothing_was_found() -> None:
    assert answer("How many walruses were counted?", []) == NOT_FOUND_EN
    assert answer("有多少只海象？", []) == NOT_FOUND_ZH


def test_a_chat_without_datasets_suggests_configuring_a_chat_model() -> None:
    text = answer("Tell me a joke", [], has_datasets=False)
    assert text == NO_DATASETS_EN
    assert "chat model" in text and "knowledge base" in text
    assert "对话模型" in answer("讲个笑话", [], has_datasets=False)


def test_the_answer_streams_in_many_pieces() -> None:
    question = "How many walruses were counted on Kolguev island?"
    pieces = ask(question, walkthrough_knowledge())
    assert len(pieces) >= 10
    assert "".join(pieces) == answer(question, walkthrough_knowledge())
    assert all(len(piece.split()) <= 1 for piece in pieces)


def test_chinese_streams_a_few_characters_at_a_time() -> None:
    pieces = ask("火星上有水吗？", [])
    assert "".join(pieces) == NOT_FOUND_ZH
    assert len(pieces) >= 5
    assert max(len(piece.strip()) for piece in pieces) <= 3


def test_streaming_lets_other_coroutines_run_between_pieces() -> None:
    request = ChatRequest(
        system="",
        history=[],
        question="How many walruses were counted on Kolguev island?",
        knowledge=walkthrough_knowledge(),
    )
    timeline: list[str] = []

    async def ticker() -> None:
        while True:
            timeline.append("tick")
            await asyncio.sleep(0)

    async def run() -> None:
        task = asyncio.create_task(ticker())
        async for _piece in ExtractiveChatModel().stream(request):
            timeline.append("piece")
        task.cancel()

    asyncio.run(run())
    after_first_piece = ",".join(timeline[timeline.index("piece") :])
    # Between any two pieces the other coroutine got at least one turn.
    assert after_first_piece.count("piece") >= 10
    assert "piece,piece" not in after_first_piece


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("Version 3.5 is out. Next", ["Version 3.5 is out.", "Next"]),
        (
            "第一句。第二句！第三句？第四；第五",
            ["第一句。", "第二句！", "第三句？", "第四；", "第五"],
        ),
        ("line one\nline two\n\n", ["line one", "line two"]),
        # A full stop inside brackets, after an ellipsis or an abbreviation ends nothing ...
        (
            "When it is on (with ALTER TABLE ... ENABLE ROW LEVEL SECURITY), all access "
            "needs a policy. Next",
            [
                "When it is on (with ALTER TABLE ... ENABLE ROW LEVEL SECURITY), all access "
                "needs a policy.",
                "Next",
            ],
        ),
        (
            "Use a key (e.g. a name. Or an id) here. Next",
            ["Use a key (e.g. a name. Or an id) here.", "Next"],
        ),
        ("Tools, e.g. pip. Next", ["Tools, e.g. pip.", "Next"]),
        # ... a bracketed sentence is one, and an unclosed bracket protects nothing.
        ("One. (An aside.) Two.", ["One.", "(An aside.)", "Two."]),
        ("A (see this. Then that.", ["A (see this.", "Then that."]),
    ],
)
def test_sentence_splitting(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_model_identity() -> None:
    model = ExtractiveChatModel()
    assert model.model_id == "ragsite-extractive@Builtin"
    assert model.extractive is True


HARDWARE = (
    "Prerequisites\n"
    "Before you install, make sure your machine meets the minimum hardware requirements:\n"
    "- CPU >= 4 cores\n"
    "- RAM >= 16 GB\n"
    "- Disk >= 50 GB\n"
    "Stop all running containers:\n"
    "docker compose down"
)


@pytest.mark.parametrize("embedding_model", ["", "sentence-transformers/all-MiniLM-L6-v2@Builtin"])
def test_a_list_that_answers_is_quoted_whole_without_its_heading(embedding_model: str) -> None:
    knowledge = [
        KnowledgeChunk(0, "Upgrading\nTo upgrade, stop the server. Back up the database.", "u.md"),
        KnowledgeChunk(1, HARDWARE, "readme.md"),
    ]
    request = ChatRequest(
        system="",
        history=[],
        question="What are the minimum hardware requirements?",
        knowledge=knowledge,
        embedding_model=embedding_model,
    )
    text = compose_answer(request)
    assert "- CPU >= 4 cores\n- RAM >= 16 GB\n- Disk >= 50 GB [ID:1]" in text
    assert "Prerequisites" not in text and "docker" not in text and "upgrade" not in text


def test_one_item_of_a_list_can_answer_with_its_lead_in() -> None:
    text = compose_with_minilm("How much RAM do I need?", HARDWARE, "readme.md")
    assert "RAM >= 16 GB" in text and text.startswith("Before you install")


def test_headings_and_lead_ins_are_context_not_passages() -> None:
    kinds = {u.text: u.kind for u in passages([KnowledgeChunk(0, HARDWARE, "readme.md")])}
    assert "Prerequisites" not in kinds
    assert not any(text.rstrip().endswith(":") for text in kinds)
    assert kinds["- CPU >= 4 cores\n- RAM >= 16 GB\n- Disk >= 50 GB"] == "list"
    assert kinds["Stop all running containers: docker compose down"] == "sentence"


def test_table_rows_are_quoted_under_their_header() -> None:
    table = "Ports\n| Service | Port |\n| --- | --- |\n| web | 9380 |\n| valkey | 6379 |"
    request = ChatRequest(
        system="",
        history=[],
        question="Which port does valkey use?",
        knowledge=[KnowledgeChunk(0, table, "ports.md")],
    )
    text = compose_answer(request)
    assert text == "| Service | Port |\n| --- | --- |\n| valkey | 6379 | [ID:0]"


def test_html_table_chunks_from_pdfs_are_quoted_by_row_too() -> None:
    table = (
        "<table><caption>Table 2: Ports</caption><tr><th>Service</th><th>Port</th></tr>"
        "<tr><td>web</td><td>9380</td></tr><tr><td>valkey</td><td>6379</td></tr></table>"
    )
    request = ChatRequest(
        system="",
        history=[],
        question="Which port does valkey use?",
        knowledge=[KnowledgeChunk(0, table, "ports.pdf")],
    )
    text = compose_answer(request)
    assert text == "| Service | Port |\n| --- | --- |\n| valkey | 6379 | [ID:0]"


def test_the_no_answer_text_of_the_chat_is_said() -> None:
    request = ChatRequest(
        system="",
        history=[],
        question="What is the capital of France?",
        knowledge=walkthrough_knowledge(),
        no_answer="Nothing here.",
    )
    assert compose_answer(request) == "Nothing here."


def test_a_sentence_is_said_with_the_term_it_explains() -> None:
    # Documentation pages keep the term being explained in a heading line of its own.
    chunk = (
        "shared_buffers (integer)\n"
        "Sets the amount of memory the database server uses for shared memory buffers.\n"
        "Note\n"
        "The default is typically 128 megabytes.\n"
    )
    request = ChatRequest(
        system="",
        history=[],
        question="How much memory does the server use for shared memory buffers?",
        knowledge=[KnowledgeChunk(0, chunk, "config.html")],
    )
    text = compose_answer(request)
    assert text.startswith("shared_buffers (integer): Sets the amount of memory")
    assert "Note:" not in text


def test_a_chinese_question_with_latin_terms_gets_the_chinese_no_answer() -> None:
    assert answer("如何把 CSV 文件快速导入 PostgreSQL 的表？", []) == NOT_FOUND_ZH


def test_a_chinese_question_over_english_text_is_answered_through_its_english_rendering() -> None:
    """MiniLM cannot compare Chinese with English: the answerer matches the question's
    dictionary rendering, as retrieval did when it found these chunks."""
    from chat.llm.extractive import select_passages
    from knowledge.embeddings import MINILM_ID

    knowledge = [
        KnowledgeChunk(
            0,
            "The server writes its log files to the data directory. "
            "A nightly database backup is kept for seven days. "
            "The cron job rotates the archives.",
            "server.txt",
        ),
        KnowledgeChunk(1, "Tax forms are due in April. Late filing costs a fee.", "tax.txt"),
    ]
    chosen = select_passages("数据库备份保留多久？", knowledge, MINILM_ID)
    assert chosen, "the question's English rendering names the database backup"
    assert "seven days" in chosen[0].text


SUBPROCESS_EXCEPTIONS = (
    "stderr¶\n"
    "Stderr output of the child process if it was captured by run(). Otherwise, None.\n"
    "Changed in version 3.5: stdout and stderr attributes added\n"
    "exception subprocess.CalledProcessError¶\n"
    "Subclass of SubprocessError, raised when a process run by check_call(), check_output(), or "
    "run() (with check=True) returns a non-zero exit status.\n"
    "returncode¶\n"
    "Exit status of the child process. If the process exited due to a signal, this will be the "
    "negative signal number.\n"
)


@pytest.mark.parametrize("embedding_model", ["", "sentence-transformers/all-MiniLM-L6-v2@Builtin"])
def test_a_signature_after_a_version_note_labels_the_sentence_under_it(
    embedding_model: str,
) -> None:
    """Sphinx pages: "Changed in version …" has no full stop, and the API signature after it
    ends in ¶; the signature is the heading of the next sentence, not the end of the note."""
    request = ChatRequest(
        system="",
        history=[],
        question="What is raised when a process run with check=True returns a non-zero status?",
        knowledge=[KnowledgeChunk(0, SUBPROCESS_EXCEPTIONS, "subprocess.html")],
        embedding_model=embedding_model,
    )
    text = compose_answer(request)
    assert text.startswith("exception subprocess.CalledProcessError: Subclass of SubprocessError")
    assert "stderr: Subclass" not in text
    kinds = {u.text for u in passages([KnowledgeChunk(0, SUBPROCESS_EXCEPTIONS, "s.html")])}
    assert "Changed in version 3.5: stdout and stderr attributes added" in kinds


PG_DUMP_OPTIONS = (
    "--data-only\n"
    "Dump only the data, not the schema (data definitions). Table data, large objects, and "
    "sequence values are dumped.\n"
    "--schema-only\n"
    "Dump only the object definitions (schema), not data.\n"
    "This option is the inverse of --data-only.\n"
    "--quote-all-identifiers\n"
    "Force quoting of all identifiers.\n"
)


@pytest.mark.parametrize("embedding_model", ["", "sentence-transformers/all-MiniLM-L6-v2@Builtin"])
def test_the_option_the_question_names_is_quoted_with_its_name(embedding_model: str) -> None:
    """Two options described alike are not one passage twice; the words of the question in
    their order ("schema only" of --schema-only) pick the option it names."""
    request = ChatRequest(
        system="",
        history=[],
        question="pg_dump --schema-only",
        knowledge=[KnowledgeChunk(0, PG_DUMP_OPTIONS, "app-pgdump.html")],
        embedding_model=embedding_model,
    )
    text = compose_answer(request)
    # The sentence after it in the same section goes with it (it holds "only").
    assert "--schema-only: Dump only the object definitions (schema), not data. " in text
    assert text.endswith("This option is the inverse of --data-only. [ID:0]")


VACUUM_BASICS = (
    "Vacuuming Basics\n"
    "There are two variants of VACUUM: standard VACUUM and VACUUM FULL.\n"
    "VACUUM FULL can reclaim more disk space but runs much more slowly.\n"
    "Also, the standard form of VACUUM can run in parallel with production database operations.\n"
)


def test_a_chinese_question_matches_english_sentences_through_its_words_glosses() -> None:
    """Without embeddings, "回收" (recycle / reclaim / retrieve) and "磁盘空间" (disk space)
    meet the English sentence through their dictionary glosses."""
    request = ChatRequest(
        system="",
        history=[],
        question="磁盘空间怎么回收？",
        knowledge=[
            KnowledgeChunk(0, VACUUM_BASICS, "maintenance.html"),
            KnowledgeChunk(1, "Tax forms are due in April. Late filing costs a fee.", "tax.txt"),
        ],
    )
    text = compose_answer(request)
    assert text.startswith("Vacuuming Basics: VACUUM FULL can reclaim more disk space")
    assert "Tax" not in text


STRFTIME_CODES = (
    "strftime() and strptime() Format Codes\n"
    "Directive: %a; Meaning: Weekday as locale’s abbreviated name.; Example: Sun, Mon, …, Sat "
    "(en_US); Notes: (1)\n"
    "Directive: %H; Meaning: Hour (24-hour clock) as a zero-padded decimal number.; Example: "
    "00, 01, …, 23; Notes: (9)\n"
    "Directive: %M; Meaning: Minute as a zero-padded decimal number.; Example: 00, 01, …, 59; "
    "Notes: (9)\n"
)


def test_table_records_flattened_one_a_line_are_passages_of_their_own() -> None:
    """Parsed HTML tables come as "Header: value; Header: value" lines without a full stop;
    each line is a row to quote, not part of one long run-on sentence."""
    texts = [u.text for u in passages([KnowledgeChunk(0, STRFTIME_CODES, "datetime.html")])]
    assert len(texts) == 3 and all(t.startswith("Directive: %") for t in texts)
    text = compose_with_minilm(
        "Which directive gives the hour of a 24-hour clock?", STRFTIME_CODES, "datetime.html"
    )
    assert "Directive: %H; Meaning: Hour (24-hour clock)" in text
    assert "%a" not in text


FETCH_API = (
    "fetch.progress(callback)¶\n"
    "Report progress to callback while the download runs.\n"
    "callback receives the number of bytes received so far.\n"
    "It is called about once a second, less often for a long download.\n"
    "\n"
    "fetch.deadline(url, limit)¶\n"
    "Give up on a transfer that is still going after limit seconds.\n"
    "The transfer then ends with a TimeoutError.\n"
    "limit is a number of seconds.\n"
)


def test_the_section_most_like_a_question_in_other_words_is_quoted_with_its_term() -> None:
    """No sentence under fetch.deadline shares a word (or a word close to one, as "aborted" is
    to "abort") with the question, but the section as a whole says what it asks; the sentence
    sharing its words ("long download") is not enough."""
    text = compose_with_minilm(
        "how to abort a download that takes too long", FETCH_API, "fetch.html"
    )
    assert "fetch.deadline(url, limit): Give up on a transfer that is still going after" in text
    assert "long download. [ID:0]" in text  # the passage that matched by its words stays


def test_a_passage_that_answers_in_other_words_qualifies_by_terms_and_meaning_together() -> None:
    """Few of the question's words and a middling cosine, neither enough alone: retrieval found
    the chunk, and the sentence that names urlencode() is the answer, not "nothing found"."""
    text = (
        "Use the urllib.parse.urlencode() function to convert a mapping of names to values "
        "into a query string.\n\nSeparators are strict: a semicolon is not taken for an ampersand."
    )
    question = "build the query-string part of a web address from a dictionary"
    assert compose_with_minilm(question, text, "urllib.parse.html") == (
        "Use the urllib.parse.urlencode() function to convert a mapping of names to values "
        "into a query string. [ID:0]"
    )
    unrelated = compose_with_minilm("What is the capital of France?", text, "urllib.parse.html")
    assert unrelated == NOT_FOUND_EN


def test_sections_need_the_embedding_model_and_keep_the_answer_short() -> None:
    knowledge = [KnowledgeChunk(0, FETCH_API, "fetch.html")]
    question = "how to abort a download that takes too long"
    assert score_passages(question, knowledge).sections == []  # terms alone: no sections
    assert "fetch.deadline" not in compose_answer(
        ChatRequest(system="", history=[], question=question, knowledge=knowledge)
    )
    others = [
        "A download that takes long is written to the log.",
        "The progress bar of a long download turns yellow.",
        "Each download takes one connection, however long it runs.",
        "A long download keeps the laptop awake.",
        "How long a download takes depends on the mirror.",
    ]
    chosen = select_passages(
        question,
        [*knowledge, *(KnowledgeChunk(n, text, f"{n}.md") for n, text in enumerate(others, 1))],
        "sentence-transformers/all-MiniLM-L6-v2@Builtin",
    )
    assert len(chosen) == MAX_UNITS  # the section's passage took the place of the last one
    assert "fetch.deadline(url, limit)" in {u.label for u in chosen}


QUEUE_JOIN = (
    "coroutine join()¶\n"
    "Block until all items in the queue have been received and processed.\n"
    "The count of unfinished tasks goes up whenever an item is added to the queue. The count "
    "goes down whenever a consumer coroutine calls task_done() to indicate that the item was "
    "retrieved and all work on it is complete.\n"
    "qsize()¶\n"
    "Return the number of items in the queue.\n"
)


def test_a_quoted_sentence_goes_on_with_the_related_sentences_of_its_section() -> None:
    """The first sentence of a definition names the idea, the next ones the thing to call:
    they follow it while they hold some of the question's words, within its section only."""
    request = ChatRequest(
        system="",
        history=[],
        question="wait until every queued item has been processed",
        knowledge=[KnowledgeChunk(0, QUEUE_JOIN, "asyncio-queue.html")],
    )
    text = compose_answer(request)
    assert text.startswith("coroutine join(): Block until all items in the queue")
    assert "calls task_done() to indicate" in text
    assert "Return the number of items" not in text
    assert text.count("[ID:0]") == 1


CASCADE_DOCS = (
    "5.4.5. Foreign Keys\n"
    "We know that the foreign keys disallow creation of orders that do not relate to any "
    "products. If someone removes an order, the order items are removed as well:\n"
    "CREATE TABLE orders (\n"
    "    order_id integer PRIMARY KEY,\n"
    "    shipping_address text\n"
    ");\n"
    "\n"
    "CREATE TABLE order_items (\n"
    "    product_no integer REFERENCES products ON DELETE RESTRICT,\n"
    "    order_id integer REFERENCES orders ON DELETE CASCADE,\n"
    "    quantity integer\n"
    ");\n"
    "Restricting and cascading deletes are the two most common options.\n"
)


def test_code_without_fences_is_one_passage_quoted_with_its_lead_in() -> None:
    """HTML <pre> blocks come as plain lines: an SQL example is one passage, not "sentences"
    cut at its semicolons nor headings ("CREATE TABLE orders ("), and prose after it is prose."""
    units = passages([KnowledgeChunk(0, CASCADE_DOCS, "ddl-constraints.html")])
    kinds = {u.text: u.kind for u in units}
    code = [u for u in units if u.kind == "code"]
    assert len(code) == 1
    assert code[0].text.startswith("```\nCREATE TABLE orders (")
    assert code[0].text.endswith("ON DELETE CASCADE,\n    quantity integer\n);\n```")
    assert code[0].head == "If someone removes an order, the order items are removed as well:"
    assert kinds["Restricting and cascading deletes are the two most common options."] == "sentence"
    assert code[0].heading == "5.4.5. Foreign Keys"
    text = compose_with_minilm(
        "How are the order items removed when the order is removed?",
        CASCADE_DOCS,
        "ddl-constraints.html",
    )
    assert "the order items are removed as well: [ID:0]\n```\nCREATE TABLE orders (" in text


@pytest.mark.parametrize(
    "line",
    [
        "UPDATE statements may use subscripting in the SET clause to modify jsonb values.",
        "CREATE TABLE AS",
        "@functools.lru_cache(maxsize=128, typed=False)¶",
        "If check is true, a CalledProcessError exception will be raised.",
        "timeout = 5 is the default for every request.",
    ],
)
def test_prose_titles_and_signatures_that_look_like_code_stay_what_they_are(line: str) -> None:
    units = passages([KnowledgeChunk(0, f"{line}\nIt is what the docs say.", "x.html")])
    assert not any(u.kind == "code" for u in units)


def test_python_code_and_query_output_go_with_their_code() -> None:
    content = (
        "Reset the owner of each member:\n"
        "import tarfile\n"
        "def reset(tarinfo):\n"
        "    tarinfo.uid = tarinfo.gid = 0\n"
        "    return tarinfo\n"
        "tar = tarfile.open('sample.tar.gz', 'w:gz')\n"
        "tar.close()\n"
        "EXPLAIN ANALYZE SELECT *\n"
        "FROM tenk1 WHERE unique1 < 10;\n"
        "\n"
        "     QUERY PLAN\n"
        "--------------------\n"
        " Seq Scan on tenk1  (actual time=0.1..0.2 rows=10 loops=1)\n"
        "Planning Time: 0.2 ms\n"
        "The numbers are in milliseconds of real time.\n"
    )
    units = passages([KnowledgeChunk(0, content, "x.html")])
    code = [u.text for u in units if u.kind == "code"]
    assert len(code) == 1
    assert "tar = tarfile.open('sample.tar.gz', 'w:gz')" in code[0]
    assert "Planning Time: 0.2 ms\n```" in code[0]
    assert [u.text for u in units if u.kind != "code"] == [
        "The numbers are in milliseconds of real time."
    ]


def test_long_code_is_quoted_by_whole_statements_and_every_line_stays_quotable() -> None:
    statement = "SELECT depname, empno, salary, avg(salary) OVER (PARTITION BY depname)\nFROM emp;"
    output = "\n".join(f" develop   |    {n} |   5200 | 5020.0000000000000000" for n in range(20))
    other = "CREATE TABLE emp (\n    depname text,\n    salary integer\n);"
    content = f"An example:\n{other}\n\n{statement}\n{output}\n(20 rows)\nThat is all it does.\n"
    units = passages([KnowledgeChunk(0, content, "x.html")])
    code = [u.text for u in units if u.kind == "code"]
    # The two statements fit in one piece (with their blank line); the query's output is
    # quoted apart, by runs of lines that say where they were cut.
    assert code[0] == f"```\n{other}\n\n{statement}\n```"
    assert all(len(c) <= CODE_PIECE_CHARS for c in code)
    assert code[1].endswith("…\n```") and code[-1].endswith("(20 rows)\n```")
    assert all(f"|    {n} |" in "".join(code) for n in range(20))
    assert units[-1].text == "That is all it does."


def test_python_code_is_cut_between_definitions_not_inside_them() -> None:
    body = "".join(f"    total = total + step_{n}(item)\n" for n in range(8))
    content = (
        "Two helpers:\n"
        f"def first(item):\n    total = 0\n{body}    return total\n"
        f"def second(item):\n    total = 1\n{body}    return total\n"
    )
    code = [u.text for u in passages([KnowledgeChunk(0, content, "x.html")]) if u.kind == "code"]
    assert [c.split("\n")[1] for c in code] == ["def first(item):", "def second(item):"]
    assert all(c.endswith("    return total\n```") for c in code)


def test_one_code_example_at_most_keeps_the_answer_short() -> None:
    examples = (
        "To rank salaries within a window, write this:\n"
        "SELECT rank() OVER (PARTITION BY depname ORDER BY salary DESC) FROM empsalary;\n\n"
        "To sum salaries over a named window:\n"
        "SELECT sum(salary) OVER w FROM empsalary WINDOW w AS (ORDER BY salary);\n\n"
        "To average the salary over a whole department window:\n"
        "SELECT avg(salary) OVER (PARTITION BY depname) FROM empsalary;\n"
    )
    knowledge = [KnowledgeChunk(0, examples, "x.html")]
    assert sum(u.kind == "code" for u in passages(knowledge)) == 3
    request = ChatRequest(
        system="", history=[], question="salary over a window", knowledge=knowledge
    )
    assert compose_answer(request).count("```") == 2  # one fenced example


OS_PATH_TIMES = (
    "os.path.getatime(path)¶\n"
    "Return the time of last access of path. The return value is a floating point number "
    "giving the number of seconds since the epoch (see the time module).\n"
    "os.path.getmtime(path)¶\n"
    "Return the time of last modification of path. The return value is a floating point number "
    "giving the number of seconds since the epoch (see the time module).\n"
    "New in version 3.2.\n"
)


def test_the_same_words_under_another_term_are_a_passage_of_their_own() -> None:
    """The two functions' second sentences are word for word alike; each says it of its own
    function, so neither is dropped as a repeat (the answer to "seconds since the epoch" names
    both), while a sentence repeated under one term is still one passage."""
    units = passages([KnowledgeChunk(0, OS_PATH_TIMES, "os.path.html")])
    labels = [u.label for u in units if u.text.startswith("The return value is")]
    assert labels == ["os.path.getatime(path)", "os.path.getmtime(path)"]
    text = compose_answer(
        ChatRequest(
            system="",
            history=[],
            question="Which function gives a time as a floating point number of seconds since "
            "the epoch?",
            knowledge=[KnowledgeChunk(0, OS_PATH_TIMES, "os.path.html")],
        )
    )
    assert "getatime" in text
    assert "getmtime" in text
    doubled = passages([KnowledgeChunk(0, "A walrus dives. A walrus dives.", "w.txt")])
    assert [u.text for u in doubled] == ["A walrus dives."]


def test_a_bare_version_note_is_no_passage() -> None:
    texts = {u.text for u in passages([KnowledgeChunk(0, OS_PATH_TIMES, "os.path.html")])}
    assert "New in version 3.2." not in texts
    assert any(t.startswith("Return the time of last access") for t in texts)


def test_a_version_note_with_what_changed_starts_a_passage_of_its_own() -> None:
    """Sphinx leaves no full stop after a description line; the version note after it is a
    passage of its own, not the end of the description's sentence."""
    content = (
        "os.path.getsize(path)¶\n"
        "Return the size, in bytes, of path, as the operating system reports it\n"
        "Changed in version 3.6: Accepts a path-like object.\n"
    )
    texts = [u.text for u in passages([KnowledgeChunk(0, content, "os.path.html")])]
    assert texts == [
        "Return the size, in bytes, of path, as the operating system reports it",
        "Changed in version 3.6: Accepts a path-like object.",
    ]


def test_a_sentence_that_goes_on_from_code_is_quoted_with_the_code() -> None:
    """A sentence like "which will copy …" after a command says nothing alone: it is quoted
    with the command (and a sentence after code that starts anew stays a passage of its own)."""
    chunk = (
        "The simplest useful command is something like:\n"
        "restore_command = 'cp /mnt/server/archivedir/%f %p'\n"
        "which will copy previously archived WAL segments from the directory "
        "/mnt/server/archivedir.\n"
        "Of course, you can use something much more complicated.\n"
    )
    units = passages([KnowledgeChunk(0, chunk, "backup.html")])
    texts = [u.text for u in units]
    assert texts[0].startswith("```\nrestore_command = 'cp")
    assert texts[0].endswith("```\nwhich will copy previously archived WAL segments from the "
                             "directory /mnt/server/archivedir.")  # fmt: skip
    assert not any(t.startswith("which will copy") for t in texts)
    assert "Of course, you can use something much more complicated." in texts
    text = compose_with_minilm(
        "What copies previously archived WAL segments from the archive directory?",
        chunk,
        "backup.html",
    )
    assert "restore_command = 'cp" in text
    assert text.index("restore_command") < text.index("which will copy")


REMOVE_TREE = [
    KnowledgeChunk(
        0,
        "shutil.rmtree(path, ignore_errors=False)¶\n"
        "Delete an entire directory tree; path must point to a directory.\n\n"
        "shutil.copyfile(src, dst)¶\n"
        "Copy the contents of the file named src to a file named dst.\n",
        "shutil.html",
    ),
    KnowledgeChunk(
        1,
        "os.remove(path)¶\n"
        "Remove the file path. All files are closed first.\n\n"
        "os.listdir(path)¶\n"
        "Return a list of the names of the entries in the folder given by path, all of them.\n",
        "os.html",
    ),
]
REMOVE_TREE_QUESTION = "remove a folder together with all the files inside it"


def test_a_question_word_also_matches_the_passages_words_close_to_it_in_meaning() -> None:
    """The question says "folder", the answer "directory": with MiniLM the question's word
    stands for the passage's too, so shutil.rmtree's sentence holds two of its terms."""
    from knowledge.embeddings import MINILM_ID

    units = passages(REMOVE_TREE)
    assert frozenset({"folder", "directory"}) in _question_groups(
        REMOVE_TREE_QUESTION, units, MINILM_ID
    )
    assert frozenset({"folder"}) in _question_groups(REMOVE_TREE_QUESTION, units)
    request = ChatRequest(
        system="",
        history=[],
        question=REMOVE_TREE_QUESTION,
        knowledge=REMOVE_TREE,
        embedding_model=MINILM_ID,
    )
    assert "shutil.rmtree(path, ignore_errors=False): Delete an entire directory tree" in (
        compose_answer(request)
    )


def test_close_words_are_measured_with_minilm_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cosine bound is MiniLM's: another model's words are matched as written (and that
    model is not even asked)."""
    from chat.llm import extractive
    from knowledge import embeddings
    from knowledge.embeddings import MINILM_ID

    asked: list[str] = []
    monkeypatch.setattr(embeddings, "embed_texts", lambda model_id, texts: asked.append(model_id))
    assert frozenset([MINILM_ID]) == extractive.SOFT_TERM_MODELS
    units = passages(REMOVE_TREE)
    groups = _question_groups(REMOVE_TREE_QUESTION, units, "text-embedding-3-small@OpenAI")
    assert all(len(group) == 1 for group in groups)
    assert asked == []


def test_without_the_embedding_service_words_are_matched_as_written(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from chat.llm import extractive
    from knowledge import embeddings
    from knowledge.embeddings import MINILM_ID

    def unreachable(model_id: str, texts: list[str]) -> None:
        raise embeddings.EmbeddingError("The embedding service is unreachable.")

    monkeypatch.setattr(extractive, "_word_vectors", extractive._VectorCache(64))
    monkeypatch.setattr(embeddings, "embed_texts", unreachable)
    groups = _question_groups(REMOVE_TREE_QUESTION, passages(REMOVE_TREE), MINILM_ID)
    assert all(len(group) == 1 for group in groups)
    assert "embedding words for the extractive answer failed" in caplog.text


def test_the_vector_cache_embeds_a_text_once_and_keeps_the_latest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chat.llm import extractive
    from knowledge import embeddings
    from knowledge.embeddings import MINILM_ID

    asked: list[list[str]] = []
    real = embeddings.embed_texts

    def counted(model_id: str, texts: list[str]) -> object:
        asked.append(list(texts))
        return real(model_id, texts)

    monkeypatch.setattr(embeddings, "embed_texts", counted)
    cache = extractive._VectorCache(2, np.float16)
    first = cache.embed(MINILM_ID, ["folder", "directory"])
    again = cache.embed(MINILM_ID, ["directory", "folder"])
    assert asked == [["folder", "directory"]]
    assert again.dtype == np.float32 and again.shape == (2, 384)
    assert np.array_equal(again, first[::-1])
    assert float(first[0] @ first[1]) >= 0.75  # what lets "folder" stand for "directory"
    cache.embed(MINILM_ID, ["archive"])  # the least recently used ("directory") goes
    cache.embed(MINILM_ID, ["folder", "directory"])
    assert asked[1:] == [["archive"], ["directory"]]


def test_a_pasted_text_is_matched_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """Close words are for questions: a text with more terms than SOFT_QUESTION_TERMS would
    cost an embedding per word, so its words count as written."""
    from chat.llm import extractive
    from knowledge.embeddings import MINILM_ID

    long_question = f"{REMOVE_TREE_QUESTION} " + " ".join(
        f"word{n}x" for n in range(extractive.SOFT_QUESTION_TERMS)
    )
    units = passages(REMOVE_TREE)
    assert all(len(g) == 1 for g in _question_groups(long_question, units, MINILM_ID))
    monkeypatch.setattr(extractive, "SOFT_QUESTION_TERMS", 100)
    assert frozenset({"folder", "directory"}) in _question_groups(long_question, units, MINILM_ID)


LONG_LIST = "Options\n" + "\n".join(f"- option number {i} sets the knob {i}" for i in range(10))


def test_an_item_of_a_short_list_is_quoted_with_its_whole_list() -> None:
    # A question about the processor alone matches "CPU >= 4 cores" best; the rest of the
    # requirements list is what the asker also needs, and it is short.
    text = compose_with_minilm("Which processor does it need?", HARDWARE, "readme.md")
    assert "- CPU >= 4 cores\n- RAM >= 16 GB\n- Disk >= 50 GB" in text
    assert text.count("CPU >= 4 cores") == 1
    # A long list is still quoted by the item that answers.
    text = compose_with_minilm("What does option number 7 set?", LONG_LIST, "options.md")
    assert "option number 7 sets the knob 7" in text
    assert "knob 3" not in text


FAQ = (
    "How to switch the document engine to Infinity?\n"
    "Stop all running containers first. Then set DOC_ENGINE to infinity in docker/.env and "
    "start the containers again.\n"
    "Which architectures does it support?\n"
    "We officially support x86 CPUs and NVIDIA GPUs."
)


def test_an_faq_question_on_a_line_of_its_own_is_the_heading_of_its_answer() -> None:
    units = passages([KnowledgeChunk(0, FAQ, "faq.md")])
    assert not any(u.text.endswith("?") for u in units)
    headed = {u.text: u.heading for u in units}
    assert headed["We officially support x86 CPUs and NVIDIA GPUs."] == (
        "Which architectures does it support?"
    )
    for embedding_model in ("", "sentence-transformers/all-MiniLM-L6-v2@Builtin"):
        question = "How do I switch the document engine to Infinity?"
        text = compose_one(question, FAQ, "faq.md", embedding_model)
        assert "set DOC_ENGINE to infinity" in text
        # The question is not said back, neither alone nor as a label.
        assert "Infinity?" not in text
    # A question inside running prose, or with nothing under it, stays a sentence.
    prose = "Why does it restart? It reloads its settings.\nWhat happens then?"
    assert [u.text for u in passages([KnowledgeChunk(0, prose, "p.md")])] == [
        "Why does it restart?",
        "It reloads its settings.",
        "What happens then?",
    ]


START_UP = (
    "Start up the server\n"
    "1. Ensure `vm.max_map_count` >= 262144:\n"
    "   > To check the value of `vm.max_map_count`:\n"
    "   >\n"
    "   > ```bash\n"
    "   > sysctl vm.max_map_count\n"
    "   > ```\n"
    "2. Clone the repo:\n"
    "   ```bash\n"
    "   git clone https://github.com/infiniflow/ragflow.git\n"
    "   ```\n"
    "3. Start up the server with Docker Compose."
)


def test_a_quote_or_code_block_inside_a_list_item_keeps_its_lines() -> None:
    items = [u.text for u in passages([KnowledgeChunk(0, START_UP, "readme.md")])]
    assert (
        "1. Ensure `vm.max_map_count` >= 262144:\n"
        "   > To check the value of `vm.max_map_count`:\n"
        "   >\n"
        "   > ```bash\n"
        "   > sysctl vm.max_map_count\n"
        "   > ```"
    ) in items
    assert (
        "2. Clone the repo:\n"
        "   ```bash\n"
        "   git clone https://github.com/infiniflow/ragflow.git\n"
        "   ```"
    ) in items
    text = compose_with_minilm("How do I start up the server?", START_UP, "readme.md")
    # The citation never lands on a fence line, where it would leave the code block open.
    assert not any(line.strip().startswith("```") and "[ID:" in line for line in text.split("\n"))
    assert "   git clone https://github.com/infiniflow/ragflow.git\n   ```" in text


def test_a_question_is_never_quoted_as_an_answer() -> None:
    # A chunk can end in an FAQ's question whose answer went to the next chunk.
    text = "The server listens on port 80 by default.\nHow do I change the port of the server?"
    for quoted in (
        compose_with_minilm("How do I change the port of the server?", text, "faq.md"),
        answer("Which port does the server use?", [KnowledgeChunk(0, text, "faq.md")]),
    ):
        assert "port 80" in quoted
        assert "change the port" not in quoted


def test_a_link_counts_by_its_text_not_its_address() -> None:
    links = "Documentation\n- [Configuration](https://ragflow.io/docs/dev/configurations)"
    [item] = [u for u in passages([KnowledgeChunk(0, links, "readme.md")]) if u.kind == "item"]
    assert "configuration" in item.terms
    assert not {"ragflow", "docs", "https"} & item.terms
    assert item.text == "- [Configuration](https://ragflow.io/docs/dev/configurations)"


def test_rules_and_admonition_fences_separate_passages_and_are_never_quoted() -> None:
    text = (
        "Configure LLMs\n"
        "Click **OpenAI-API-Compatible** to configure a model that speaks its API:\n"
        "openai-api-compatible\n"
        "ollama\n"
        "---\n"
        ":::note\n"
        "And you may need to update your API key to access these models.\n"
        ":::\n"
        "```yaml\n"
        "---\n"
        "title: kept\n"
        "```"
    )
    units = passages([KnowledgeChunk(0, text, "guide.md")])
    assert not any(u.text.strip() in ("---", ":::", ":::note") for u in units)
    assert not any(u.text.rstrip().endswith(("\n---", "\n:::")) for u in units)
    [note] = [u for u in units if u.text.startswith("And you may need")]
    assert note.label == "Configure LLMs"
    [code] = [u for u in units if u.kind == "code"]
    assert "---\ntitle: kept" in code.text


def test_the_section_pick_never_opens_with_a_question() -> None:
    from chat.llm.extractive import Scored, _section_pick

    text = "Ports\nWhy does the port change? Set PORT in the environment file and restart."
    units = passages([KnowledgeChunk(0, text, "faq.md")])
    assert [u.text for u in units][:1] == ["Why does the port change?"]
    # A section most like the question, none of whose passages qualified on their own.
    scored = Scored(units, [0.0] * len(units), {}, {}, {}, [(0.9, list(range(len(units))))])
    pick = _section_pick(scored, [])
    assert pick is not None
    assert units[pick].text == "Set PORT in the environment file and restart."
