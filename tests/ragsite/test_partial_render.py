"""Answers and agent replies render as Markdown while they stream, not only once finished."""

from __future__ import annotations

from asgiref.sync import async_to_sync

from ragsite.consumers import PartialRender, partial_answer_html


def test_the_text_so_far_renders_without_citation_markers_or_unsafe_html() -> None:
    html = partial_answer_html(
        "Needs **4 GB** of RAM [ID:0]:\n\n- 2 CPU cores [ID:1]\n- 50 GB disk <script>x()</script> [I"
    )
    assert "<strong>4 GB</strong>" in html
    assert "<li>2 CPU cores</li>" in html
    assert "[ID" not in html and "[I" not in html  # a marker cut in two waits for the rest
    assert "<script" not in html


def test_rendering_is_throttled_and_always_covers_the_whole_text() -> None:
    async def run(interval: float) -> list[str | None]:
        partial = PartialRender(interval=interval)
        return [await partial.add(delta) for delta in ("A *first*", " and", " a `second`")]

    slow = async_to_sync(run)(3600)
    assert slow[0] == "<p>A <em>first</em></p>"
    assert slow[1:] == [None, None]  # the page appends the plain deltas meanwhile
    every = async_to_sync(run)(0)
    assert every[-1] == "<p>A <em>first</em> and a <code>second</code></p>"
