"""`qa`: question/answer pairs, one chunk each.

Pairs come from two-column tables (spreadsheets, CSV, or tables in documents), from text lines
marked "Q: … / A: …" or "问：… / 答：…", from "question<TAB>answer" lines, or from headings
(or lines ending in "?") followed by their answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.parsing.context import ParseContext
from knowledge.parsing.options import Options
from knowledge.parsing.tokens import cjk_ratio
from knowledge.parsing.types import Block, ChunkDraft, Extracted, ParseError, Position, Table

_QUESTION = re.compile(r"^\s*(?:Q\s*\d*|Question\s*\d*|问题?\s*\d*)\s*[:：]\s*(.*)$", re.IGNORECASE)
_ANSWER = re.compile(r"^\s*(?:A\s*\d*|Answer|答案?|回答)\s*[:：]\s*(.*)$", re.IGNORECASE)
_HEADER_QUESTIONS = frozenset({"question", "questions", "q", "问题", "问", "提问"})
_HEADER_ANSWERS = frozenset({"answer", "answers", "a", "答案", "回答", "答"})
_ENDS_WITH_QUESTION_MARK = re.compile(r"[?？]\s*$")
MAX_QUESTION_CHARS = 300


@dataclass
class Pair:
    """A question, its answer, and the pages they are on."""

    question: str
    answer: str = ""
    pages: set[int] = field(default_factory=set)
    positions: list[Position] = field(default_factory=list)

    def add(self, page: int | None, positions: list[Position]) -> None:
        """Note that the pair runs through `page` and these boxes."""
        if page is not None:
            self.pages.add(page)
        self.positions.extend(p for p in positions if p not in self.positions)


def chunk_qa(
    extracted: Extracted, options: Options, ctx: ParseContext, filename: str
) -> list[ChunkDraft]:
    """One chunk per pair: 'Question: …\\nAnswer: …' (or 问题/回答 for Chinese documents)."""
    blocks = extracted.all_blocks()
    if extracted.tabular:
        pairs = _table_pairs(extracted.tables, ctx)
    else:
        pairs = (
            _marked_pairs(blocks)
            or _tab_pairs(blocks)
            or _heading_pairs(blocks)
            or _table_pairs(extracted.tables, ctx)
            or _question_mark_pairs(blocks)
        )
    if not pairs:
        raise ParseError(
            f"No question/answer pairs were found in {filename}. The qa method reads a spreadsheet "
            "or CSV file with two columns (question, answer), text with lines starting with "
            "'Q:' and 'A:' (or '问：' and '答：'), 'question<TAB>answer' lines, or headings "
            "followed by their answers."
        )
    chinese = cjk_ratio(" ".join(p.question + p.answer for p in pairs[:50])) > 0.3
    labels = ("问题：", "回答：") if chinese else ("Question: ", "Answer: ")
    return [
        ChunkDraft(
            content=f"{labels[0]}{pair.question}\n{labels[1]}{pair.answer}",
            page_numbers=sorted(pair.pages),
            positions=list(pair.positions),
            questions=[pair.question],
        )
        for pair in pairs
    ]


def _table_pairs(tables: list[Table], ctx: ParseContext) -> list[Pair]:
    """First column the question, second the answer; a 'question/answer' header row is skipped."""
    pairs = []
    skipped = 0
    for table in tables:
        boxes = table.row_positions if len(table.row_positions) == len(table.rows) else []
        rows = [(i, row) for i, row in enumerate(table.rows) if any(row)]
        if rows and _is_header(rows[0][1]):
            rows = rows[1:]
        for index, row in rows:
            question, answer = (row + ["", ""])[:2]
            if not (question and answer):
                skipped += 1
                continue
            pages = {table.page} if table.page is not None else set()
            pairs.append(Pair(question, answer, pages, [boxes[index]] if boxes else []))
    if pairs and skipped:
        ctx.note(f"Skipped {skipped} row(s) that lack a question or an answer.")
    return pairs


def _is_header(row: list[str]) -> bool:
    """Whether a first row names its columns instead of holding a pair."""
    cells = [re.sub(r"\W", "", cell).lower() for cell in row[:2]]
    return bool(cells) and (
        cells[0] in _HEADER_QUESTIONS or (len(cells) > 1 and cells[1] in _HEADER_ANSWERS)
    )


def _lines(blocks: list[Block]) -> list[tuple[str, int | None, list[Position]]]:
    """Non-empty lines of the blocks with their pages and boxes."""
    return [
        (line.strip(), block.page, block.positions)
        for block in blocks
        for line in block.text.split("\n")
        if line.strip()
    ]


def _marked_pairs(blocks: list[Block]) -> list[Pair]:
    """'Q: …' starts a question and 'A: …' its answer; lines in between belong to the last one."""
    pairs: list[Pair] = []
    in_answer = False
    for line, page, positions in _lines(blocks):
        question = _QUESTION.match(line)
        answer = _ANSWER.match(line)
        if question:
            pairs.append(Pair(question.group(1)))
            in_answer = False
        elif answer and pairs:
            pairs[-1].answer = answer.group(1)
            in_answer = True
        elif pairs:
            if in_answer:
                pairs[-1].answer = f"{pairs[-1].answer}\n{line}".strip()
            else:
                pairs[-1].question = f"{pairs[-1].question}\n{line}".strip()
        else:
            continue
        pairs[-1].add(page, positions)
    return [p for p in pairs if p.question and p.answer]


def _tab_pairs(blocks: list[Block]) -> list[Pair]:
    """'question<TAB>answer' lines (RAGFlow's text layout); other lines extend the last answer."""
    pairs: list[Pair] = []
    for line, page, positions in _lines(blocks):
        question, tab, answer = line.partition("\t")
        if tab and question.strip() and answer.strip():
            pairs.append(Pair(question.strip(), answer.strip()))
        elif pairs:
            pairs[-1].answer += f"\n{line}"
        else:
            continue
        pairs[-1].add(page, positions)
    return pairs


def _heading_pairs(blocks: list[Block]) -> list[Pair]:
    """Each heading is a question and the text under it the answer."""
    pairs: list[Pair] = []
    for block in blocks:
        if block.heading is not None:
            pairs.append(Pair(block.text))
        elif pairs:
            pairs[-1].answer = f"{pairs[-1].answer}\n{block.text}".strip()
        else:
            continue
        pairs[-1].add(block.page, block.positions)
    return [p for p in pairs if p.answer]


def _question_mark_pairs(blocks: list[Block]) -> list[Pair]:
    """A short line ending in '?' is a question and the lines after it the answer."""
    pairs: list[Pair] = []
    for line, page, positions in _lines(blocks):
        if _ENDS_WITH_QUESTION_MARK.search(line) and len(line) <= MAX_QUESTION_CHARS:
            pairs.append(Pair(line))
        elif pairs:
            pairs[-1].answer = f"{pairs[-1].answer}\n{line}".strip()
        else:
            continue
        pairs[-1].add(page, positions)
    return [p for p in pairs if p.answer]
