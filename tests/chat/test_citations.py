"""Citation markers renumbered in answer order, on a stream and on a whole answer."""

from __future__ import annotations

from chat.services.citations import AnswerOrder


def test_markers_are_renumbered_in_the_order_the_answer_cites() -> None:
    order = AnswerOrder(7)
    text = order.text("A [ID:5]. B [ID:2]. C [ID:5][ID:6].")
    assert text == "A [ID:0]. B [ID:1]. C [ID:0][ID:2]."
    assert order.reorder(["c0", "c1", "c2", "c3", "c4", "c5", "c6"]) == [
        "c5",
        "c2",
        "c6",
        "c0",
        "c1",
        "c3",
        "c4",
    ]


def test_a_marker_cut_across_deltas_is_held_until_whole() -> None:
    order = AnswerOrder(4)
    sent = [order.feed(d) for d in ["Fact one [", "ID:", "3] and [I", "D:1", "]."]]
    sent.append(order.flush())
    assert sent == ["Fact one ", "", "[ID:0] and ", "", "[ID:1].", ""]


def test_markers_without_a_chunk_are_dropped_and_text_is_kept() -> None:
    order = AnswerOrder(2)
    assert order.text("x [ID:9] y [ID:1]") == "x  y [ID:0]"
    tail = AnswerOrder(2)
    assert tail.feed("ends with [") == "ends with "
    assert tail.flush() == "["
