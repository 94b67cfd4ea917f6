"""`laws`: one chunk per article ("第三条 …", "Article 3 …") under its part/chapter path."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.parsing.chunkers.merge import pack, segments
from knowledge.parsing.chunkers.naive import budget, draft, window_drafts
from knowledge.parsing.chunkers.sections import PATH_SEPARATOR, chunk_sections
from knowledge.parsing.context import ParseContext
from knowledge.parsing.headings import article_label, division_level
from knowledge.parsing.options import Options
from knowledge.parsing.tokens import count_tokens
from knowledge.parsing.types import Block, ChunkDraft, Extracted, Position


@dataclass
class Article:
    """One article (or the text between divisions when `label` is empty) and its path."""

    path: list[str]
    label: str = ""
    lines: list[tuple[str, int | None, list[Position]]] = field(default_factory=list)


def chunk_laws(
    extracted: Extracted, options: Options, ctx: ParseContext, filename: str
) -> list[ChunkDraft]:
    """A chunk per article; an article longer than chunk_token_num is split, path repeated."""
    articles = _articles(extracted.all_blocks())
    if not any(article.label for article in articles):
        ctx.note("No articles (第…条, Article N) were found; chunked by section instead.")
        return chunk_sections(extracted, options, ctx, filename)
    chunks: list[ChunkDraft] = []
    for article in articles:
        body = [
            Block(text, page=page, positions=positions)
            for text, page, positions in article.lines
            if text.strip()
        ]
        if not body:
            continue
        prefix = PATH_SEPARATOR.join(article.path)
        text = "\n".join(block.text for block in body)
        pages = sorted({page for _, page, _ in article.lines if page is not None})
        positions: list[Position] = []
        for block in body:
            positions.extend(p for p in block.positions if p not in positions)
        if not article.label:
            chunks.extend(window_drafts(body, options, prefix=prefix))
            continue
        whole = f"{prefix}\n{text}" if prefix else text
        if count_tokens(whole) <= options.chunk_token_num:
            chunks.append(ChunkDraft(whole, pages, positions))
            continue
        # Later parts of a long article name it in their path, as their text no longer does.
        label_path = PATH_SEPARATOR.join([*article.path, article.label])
        size = budget(options.chunk_token_num, label_path)
        windows = pack(segments(body, options.delimiter), size)
        chunks.extend(draft(w, prefix if i == 0 else label_path) for i, w in enumerate(windows))
    return chunks


def _articles(blocks: list[Block]) -> list[Article]:
    """Articles in order, each with the divisions (parts, chapters, sections) above it."""
    stack: list[tuple[int, str]] = []
    articles = [Article([])]
    for block in blocks:
        if block.heading is not None:
            label = article_label(block.text)
            if label:
                articles.append(
                    Article(_path(stack), label, [(block.text, block.page, block.positions)])
                )
            else:
                _push(stack, block.heading, block.text)
                articles.append(Article(_path(stack)))
            continue
        for line in block.text.split("\n"):
            label = None if block.is_table else article_label(line)
            level = None if block.is_table or label else division_level(line)
            if label:
                articles.append(Article(_path(stack), label, [(line, block.page, block.positions)]))
            elif level is not None:
                _push(stack, level, line.strip())
                articles.append(Article(_path(stack)))
            else:
                articles[-1].lines.append((line, block.page, block.positions))
    return articles


def _push(stack: list[tuple[int, str]], level: int, title: str) -> None:
    """Open a division: close those at the same or a deeper level first."""
    while stack and stack[-1][0] >= level:
        stack.pop()
    stack.append((level, title))


def _path(stack: list[tuple[int, str]]) -> list[str]:
    """Titles of the open divisions, outermost first."""
    return [title for _, title in stack]
