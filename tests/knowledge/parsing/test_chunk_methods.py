"""RAGFlow's chunk methods over generated documents."""

from __future__ import annotations

import pytest

from knowledge.parsing import ParseError, count_tokens
from tests.knowledge.parsing import builders
from tests.knowledge.parsing.conftest import contents, parse

LAW = """中华人民共和国示例法
第一章 总则
第一条 为了规范知识库的管理，制定本法。
第二条 本法适用于境内的知识库服务。
（一）提供检索服务的；
（二）提供问答服务的。
第二章 附则
第三条 本法自公布之日起施行。
"""


# --- naive ----------------------------------------------------------------------------


def test_naive_never_exceeds_chunk_token_num() -> None:
    text = "\n".join(f"Line {n} has exactly seven tokens here." for n in range(40))
    result = parse(text.encode(), "lines.txt", chunk_token_num=30)
    assert len(result.chunks) > 5
    assert all(chunk.token_count <= 30 for chunk in result.chunks)
    assert "\n".join(contents(result)) == text


def test_naive_splits_a_long_paragraph_by_sentence_then_by_token() -> None:
    sentences = "First sentence is here. Second one follows now. " * 5
    words = " ".join(["word"] * 50)
    result = parse(f"{sentences}\n{words}".encode(), "long.txt", chunk_token_num=12)
    assert all(chunk.token_count <= 12 for chunk in result.chunks)
    assert contents(result)[0] == "First sentence is here. Second one follows now."
    assert contents(result)[-1] == " ".join(["word"] * 2)


def test_naive_splits_at_every_delimiter_character() -> None:
    text = "甲乙丙。丁戊己！庚辛壬"
    assert contents(parse(text.encode(), "zh.txt", chunk_token_num=4, delimiter="。！")) == [
        "甲乙丙。",
        "丁戊己！",
        "庚辛壬",
    ]


def test_naive_supports_backtick_multi_character_delimiters() -> None:
    text = "alpha beta##gamma delta##epsilon"
    result = parse(text.encode(), "a.txt", chunk_token_num=4, delimiter="`##`")
    assert contents(result) == ["alpha beta##", "gamma delta##", "epsilon"]


def test_naive_treats_backslash_n_as_a_newline_delimiter() -> None:
    text = "one two\nthree four"
    assert contents(parse(text.encode(), "a.txt", chunk_token_num=2, delimiter="\\n")) == [
        "one two",
        "three four",
    ]


def test_naive_does_not_leave_a_heading_at_the_end_of_a_chunk() -> None:
    md = b"# One\nShort body.\n\n# Two\nAnother body.\n"
    assert contents(parse(md, "a.md", chunk_token_num=100)) == [
        "One\nShort body.",
        "Two\nAnother body.",
    ]


def test_naive_keeps_a_definition_term_with_its_description() -> None:
    # Python's and PostgreSQL's HTML manuals give each function or option as a <dt> over its
    # <dd>; a chunk ending in "functools.total_ordering" above a chunk opening "Given a class
    # …" would leave each half of the definition without the other.
    html = (
        b"<html><body><dl><dt>functools.cmp_to_key(func)</dt>"
        b"<dd><p>Transform an old-style comparison function to a key function for sorting.</p>"
        b"</dd><dt>@functools.total_ordering</dt><dd><p>Given a class defining one or more "
        b"rich comparison ordering methods, this class decorator supplies the rest.</p></dd>"
        b"</dl></body></html>"
    )
    chunks = contents(parse(html, "functools.html", chunk_token_num=32))
    assert chunks == [
        "functools.cmp_to_key(func)\n"
        "Transform an old-style comparison function to a key function for sorting.",
        "@functools.total_ordering\n"
        "Given a class defining one or more rich comparison ordering methods, "
        "this class decorator supplies the rest.",
    ]
    assert all(count_tokens(chunk) <= 32 for chunk in chunks)


def test_naive_leaves_a_term_where_it_is_when_its_text_would_not_fit_beside_it() -> None:
    html = (
        b"<html><body><p>Intro words.</p><dl><dt>term</dt><dd><p>"
        + b" ".join([b"word"] * 40)
        + b"</p></dd></dl></body></html>"
    )
    chunks = contents(parse(html, "t.html", chunk_token_num=40))
    assert chunks[0] == "Intro words.\nterm"
    assert "\n".join(chunks).replace("\n", " ") == "Intro words. term " + " ".join(["word"] * 40)


def test_naive_keeps_the_pages_each_chunk_came_from() -> None:
    pdf = builders.text_pdf_bytes(["Alpha page one.", "Beta page two.", "Gamma page three."])
    result = parse(pdf, "p.pdf", chunk_token_num=8)
    assert [c.page_numbers for c in result.chunks] == [[1, 2], [3]]


# --- qa -------------------------------------------------------------------------------


def test_qa_reads_pairs_from_csv_and_skips_the_header_row() -> None:
    result = parse(
        b"Question,Answer\nWhat is RAG?,Retrieval-augmented generation.\nWho?,Us.\n",
        "faq.csv",
        "qa",
    )
    assert contents(result) == [
        "Question: What is RAG?\nAnswer: Retrieval-augmented generation.",
        "Question: Who?\nAnswer: Us.",
    ]
    assert [c.questions for c in result.chunks] == [["What is RAG?"], ["Who?"]]


def test_qa_reads_pairs_from_xlsx_without_a_header_row() -> None:
    rows = [["怎么重置密码？", "在设置页面点击重置。"], ["支持中文吗？", "支持。"]]
    result = parse(builders.xlsx_bytes(rows), "faq.xlsx", "qa")
    assert contents(result) == [
        "问题：怎么重置密码？\n回答：在设置页面点击重置。",
        "问题：支持中文吗？\n回答：支持。",
    ]
    assert result.chunks[0].page_numbers == [1]


def test_qa_reads_marked_lines_from_text() -> None:
    text = "Q: How do I log in?\nA: Use your email.\nIt is case-insensitive.\n\n问：能导出吗？\n答：可以。\n"
    result = parse(text.encode(), "faq.txt", "qa")
    assert [c.questions[0] for c in result.chunks] == ["How do I log in?", "能导出吗？"]
    assert (
        result.chunks[0].content
        == "Question: How do I log in?\nAnswer: Use your email.\nIt is case-insensitive."
    )


def test_qa_reads_tab_separated_lines_like_ragflow() -> None:
    result = parse(b"What is X?\tA tool.\nWhy?\tSpeed.\n", "faq.txt", "qa")
    assert [c.questions for c in result.chunks] == [["What is X?"], ["Why?"]]
    assert result.chunks[1].content == "Question: Why?\nAnswer: Speed."


def test_qa_uses_markdown_headings_as_questions() -> None:
    md = b"## What is a dataset?\nA set of documents.\n\n## What is a chunk?\nA piece of a document.\n"
    result = parse(md, "faq.md", "qa")
    assert contents(result) == [
        "Question: What is a dataset?\nAnswer: A set of documents.",
        "Question: What is a chunk?\nAnswer: A piece of a document.",
    ]


def test_qa_without_pairs_explains_the_expected_layout() -> None:
    with pytest.raises(
        ParseError, match="No question/answer pairs were found in notes.txt. The qa method reads"
    ):
        parse(b"Just some text.\nNothing else.", "notes.txt", "qa")


# --- table ----------------------------------------------------------------------------


def test_table_gives_one_chunk_per_row_with_headers() -> None:
    rows = [["Name", "Role", "Office"], ["Ann", "Engineer", "Oslo"], ["Bob", "", "Rome"]]
    result = parse(builders.xlsx_bytes(rows), "staff.xlsx", "table")
    assert contents(result) == [
        "Name: Ann; Role: Engineer; Office: Oslo",
        "Name: Bob; Office: Rome",
    ]


def test_table_reads_tables_inside_word_documents() -> None:
    assert contents(parse(builders.docx_bytes(), "h.docx", "table")) == [
        "Type: Annual; Days: 20",
        "Type: Sick; Days: 10",
    ]


def test_table_on_a_file_without_tables_names_the_supported_formats() -> None:
    with pytest.raises(
        ParseError,
        match=r"needs tables, and notes.txt has none. It reads spreadsheets \(.xlsx\), CSV",
    ):
        parse(b"plain text", "notes.txt", "table")


# --- laws, book, manual, paper -----------------------------------------------------------


def test_laws_gives_one_chunk_per_article_under_its_chapter() -> None:
    assert contents(parse(LAW.encode(), "law.txt", "laws")) == [
        "中华人民共和国示例法",
        "第一章 总则\n第一条 为了规范知识库的管理，制定本法。",
        "第一章 总则\n第二条 本法适用于境内的知识库服务。\n（一）提供检索服务的；\n（二）提供问答服务的。",
        "第二章 附则\n第三条 本法自公布之日起施行。",
    ]


def test_laws_reads_english_articles() -> None:
    text = "Chapter 1 General\nArticle 1 This act sets rules.\nArticle 2 It applies to everyone.\n"
    assert contents(parse(text.encode(), "act.txt", "laws")) == [
        "Chapter 1 General\nArticle 1 This act sets rules.",
        "Chapter 1 General\nArticle 2 It applies to everyone.",
    ]


def test_laws_splits_a_long_article_and_names_it_in_later_parts() -> None:
    article = "第一章 总则\n第一条 " + "本条内容很长。" * 20
    result = parse(article.encode(), "law.txt", "laws", chunk_token_num=40)
    assert all(chunk.token_count <= 40 for chunk in result.chunks)
    assert contents(result)[0].startswith("第一章 总则\n第一条 本条内容很长。")
    assert all(c.startswith("第一章 总则 > 第一条\n") for c in contents(result)[1:])


def test_laws_without_articles_falls_back_to_sections_with_a_note() -> None:
    result = parse(b"# Rules\nBe kind.\n", "rules.md", "laws")
    assert contents(result) == ["Rules\nBe kind."]
    assert result.notes == [
        "No articles (第…条, Article N) were found; chunked by section instead."
    ]


def test_manual_prefixes_each_section_with_its_heading_path() -> None:
    text = "Chapter 2 Setup\n2.1 Scope\nThis covers servers.\n2.2 Steps\nRun the installer.\n"
    assert contents(parse(text.encode(), "manual.txt", "manual")) == [
        "Chapter 2 Setup > 2.1 Scope\nThis covers servers.",
        "Chapter 2 Setup > 2.2 Steps\nRun the installer.",
    ]


def test_book_uses_word_heading_styles_for_the_path() -> None:
    assert contents(parse(builders.docx_bytes(), "h.docx", "book")) == [
        "Employee Handbook > Chapter 1 Leave\nStaff get twenty days of paid leave.",
        "Employee Handbook > Chapter 1 Leave > 1.1 Sick leave\n"
        "Sick leave needs a note from a doctor after three days.",
        "<table><tr><th>Type</th><th>Days</th></tr>"
        "<tr><td>Annual</td><td>20</td></tr><tr><td>Sick</td><td>10</td></tr></table>",
        "Employee Handbook > Chapter 2 年假\n员工每年享有二十天带薪年假。",
    ]


def test_book_splits_long_sections_and_repeats_the_path() -> None:
    md = ("# Part\n## Long\n" + "A sentence of six tokens. " * 30).encode()
    result = parse(md, "b.md", "book", chunk_token_num=40)
    assert len(result.chunks) > 3
    assert all(c.startswith("Part > Long\n") for c in contents(result))
    assert all(chunk.token_count <= 40 for chunk in result.chunks)


def test_paper_keeps_the_abstract_whole() -> None:
    abstract = "We study retrieval. " * 40
    text = f"A Study of Retrieval\nAnn Author\nAbstract: {abstract}\n1 Introduction\nRetrieval matters.\n"
    result = parse(text.encode(), "paper.txt", "paper", chunk_token_num=30)
    assert contents(result) == [
        "A Study of Retrieval\nAnn Author",
        f"Abstract\n{abstract.strip()}",
        "1 Introduction\nRetrieval matters.",
    ]


# --- presentation, picture, one ---------------------------------------------------------


def test_presentation_gives_one_chunk_per_slide() -> None:
    result = parse(builders.pptx_bytes(), "deck.pptx", "presentation")
    assert [c.page_numbers for c in result.chunks] == [[1], [2], [3]]
    assert contents(result)[1] == "Regions\nRegion: North; Sales: 40"


def test_presentation_gives_one_chunk_per_pdf_page() -> None:
    result = parse(builders.text_pdf_bytes(["One.", "Two."]), "slides.pdf", "presentation")
    assert [(c.content, c.page_numbers) for c in result.chunks] == [("One.", [1]), ("Two.", [2])]


def test_one_makes_a_single_chunk_of_everything() -> None:
    text = "\n\n".join(f"Paragraph {n} of the document." for n in range(300))
    result = parse(text.encode(), "all.txt", "one", chunk_token_num=16)
    assert len(result.chunks) == 1
    assert result.chunks[0].token_count == count_tokens(text)


def test_picture_on_a_text_file_falls_back_to_naive_with_a_note() -> None:
    result = parse(b"hello", "a.txt", "picture")
    assert contents(result) == ["hello"]
    assert result.notes == ["The picture method reads images and PDFs; naive chunking was used."]


# --- email ----------------------------------------------------------------------------


def test_email_chunks_the_message_then_each_attachment_under_its_name() -> None:
    eml = builders.eml_bytes(
        attachment=("figures.txt", b"Revenue was 12 million.\nCosts were 8 million.")
    )
    result = parse(eml, "mail.eml", "email")
    message, attachment = contents(result)
    assert message.startswith("From: Alice <alice@example.com>") and message.endswith("Alice")
    assert attachment == "Attachment: figures.txt\nRevenue was 12 million.\nCosts were 8 million."


def test_email_reads_attached_office_files() -> None:
    eml = builders.eml_bytes(attachment=("deck.pptx", builders.pptx_bytes()))
    attachment = contents(parse(eml, "mail.eml", "email"))[1]
    assert attachment.startswith("Attachment: deck.pptx\nQuarterly review")


# --- methods ragsite does not have ------------------------------------------------------


@pytest.mark.parametrize("method", ["tag", "resume", "knowledge_graph"])
def test_unavailable_methods_fall_back_to_naive_with_a_note(method: str) -> None:
    result = parse(b"Some text.", "a.txt", method)
    assert contents(result) == ["Some text."]
    assert result.notes == [
        f"The '{method}' chunk method is not supported in ragsite; naive chunking was used."
    ]


def test_unknown_method_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="Unknown chunk method 'poetry'."):
        parse(b"Some text.", "a.txt", "poetry")
