"""Token windows: cut blocks at delimiters, then pack the pieces into chunks of bounded size.

This is RAGFlow's `naive_merge`, with two differences: a chunk never grows past the limit
(RAGFlow lets the last piece overflow it), and delimiters stay in the text instead of being
dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from knowledge.parsing.tokens import count_tokens, split_by_tokens
from knowledge.parsing.types import Block, Position

# Where a sentence ends: CJK and Latin terminal punctuation (a period only before a space).
_SENTENCE_END = re.compile(r"[。！？!?；;]+|\.(?=\s)|\n")


@dataclass
class Segment:
    """A piece of a block small enough to be packed whole."""

    text: str
    page: int | None
    heading: bool = False
    starts_block: bool = False  # blocks are joined with a newline; pieces of one block are not
    term: bool = False  # a definition's term: never the last words of a chunk
    tokens: int = 0
    positions: list[Position] = field(default_factory=list)  # the boxes of its block


@dataclass
class Window:
    """A packed chunk of text and the pages it came from."""

    text: str = ""
    pages: set[int] = field(default_factory=set)
    tokens: int = 0
    positions: list[Position] = field(default_factory=list)

    def add_positions(self, positions: list[Position]) -> None:
        """Add boxes not already listed (pieces of one block share its boxes)."""
        for position in positions:
            if position not in self.positions:
                self.positions.append(position)


def delimiter_pattern(delimiter: str) -> re.Pattern[str]:
    """RAGFlow's delimiter rule: each character is a delimiter, and `text` in backticks is one."""
    parts: list[str] = []
    position = 0
    for match in re.finditer(r"`([^`]+)`", delimiter):
        parts.extend(delimiter[position : match.start()])
        parts.append(match.group(1))
        position = match.end()
    parts.extend(delimiter[position:])
    parts = sorted({part for part in parts if part}, key=len, reverse=True)  # longest first
    return re.compile("|".join(re.escape(part) for part in parts) or r"\n")


def cut_after(text: str, pattern: re.Pattern[str]) -> list[str]:
    """`text` cut right after every match of `pattern`; the pieces join back to `text`."""
    pieces = []
    start = 0
    for match in pattern.finditer(text):
        if match.end() > start:
            pieces.append(text[start : match.end()])
            start = match.end()
    pieces.append(text[start:])
    return [piece for piece in pieces if piece]


def segments(blocks: Iterable[Block], delimiter: str) -> Iterator[Segment]:
    """Blocks cut at the delimiters; headings stay whole and are marked."""
    pattern = delimiter_pattern(delimiter)
    for block in blocks:
        if block.heading is not None:
            yield Segment(
                block.text, block.page, heading=True, starts_block=True, positions=block.positions
            )
            continue
        for index, piece in enumerate(cut_after(block.text, pattern)):
            yield Segment(
                piece,
                block.page,
                starts_block=index == 0,
                term=block.term,
                positions=block.positions,
            )


def pack(items: Iterable[Segment], limit: int) -> list[Window]:
    """Pack segments into windows of at most `limit` tokens, starting a new one at headings.

    Headings and definition terms ("os.path.getmtime(path)") that would end a window go to
    the next one with the text they stand over, when it has room: a chunk ending in a term
    and the next chunk opening with its description would each lack half of the definition.
    """
    windows: list[Window] = []
    current: list[Segment] = []
    tokens = 0
    for segment in _small_enough(items, limit):
        has_body = any(not s.heading for s in current)
        if current and ((segment.heading and has_body) or tokens + segment.tokens > limit):
            carried = [] if segment.heading else _trailing_titles(current)
            if len(carried) == len(current) or (
                sum(s.tokens for s in carried) + segment.tokens > limit
            ):
                carried = []
            windows.append(_window(current[: len(current) - len(carried)]))
            current = carried
            tokens = sum(s.tokens for s in carried)
        current.append(segment)
        tokens += segment.tokens
    if current:
        windows.append(_window(current))
    return [window for window in windows if window.text.strip()]


def _trailing_titles(segments: list[Segment]) -> list[Segment]:
    """The headings and definition terms that end `segments` (every piece of such a block)."""
    start = len(segments)
    while start and (segments[start - 1].heading or segments[start - 1].term):
        start -= 1
    return segments[start:]


def _window(segments: list[Segment]) -> Window:
    """One window of `segments`: blocks on lines of their own, pieces of a block run on."""
    window = Window()
    for segment in segments:
        if segment.starts_block and window.text and not window.text.endswith("\n"):
            window.text += "\n"
        window.text += segment.text
        window.tokens += segment.tokens
        if segment.page is not None:
            window.pages.add(segment.page)
        window.add_positions(segment.positions)
    return window


def _small_enough(items: Iterable[Segment], limit: int) -> Iterator[Segment]:
    """Segments with their token counts; one longer than `limit` is cut by sentence, then by token."""
    for segment in items:
        segment.tokens = count_tokens(segment.text)
        if segment.tokens <= limit:
            yield segment
            continue
        first = True
        for sentence in cut_after(segment.text, _SENTENCE_END):
            size = count_tokens(sentence)
            parts = [sentence] if size <= limit else split_by_tokens(sentence, limit)
            for part in parts:
                yield Segment(
                    part,
                    segment.page,
                    starts_block=segment.starts_block and first,
                    tokens=count_tokens(part),
                    positions=segment.positions,
                )
                first = False
