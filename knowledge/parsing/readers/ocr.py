"""Text from pictures with RapidOCR (ONNX models shipped inside the wheel)."""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image

_lock = threading.Lock()


@lru_cache(maxsize=1)
def ocr_engine() -> Any:
    """The process-wide RapidOCR engine, loaded on first use (about 0.4 s)."""
    from rapidocr import RapidOCR  # imported here: onnxruntime is slow to import

    # It logs every call at INFO; the worker's log is not the place for that.
    engine = RapidOCR(params={"Global.log_level": "warning"})
    logging.getLogger("RapidOCR").setLevel(logging.WARNING)
    return engine


def ocr_image(image: Image.Image) -> str:
    """The text in `image`, one line per visual line, or '' when there is none."""
    return _lines(_detect(image))


def ocr_boxes(image: Image.Image) -> list[tuple[str, float, float, float, float]]:
    """Each piece of text found in `image` and its box in pixels: (text, x0, x1, top, bottom)."""
    boxes = []
    for points, text, _score in _detect(image):
        xs = [point[0] for point in points]
        ys = [point[1] for point in points]
        if str(text).strip():
            boxes.append((str(text).strip(), min(xs), max(xs), min(ys), max(ys)))
    return boxes


def _detect(image: Image.Image) -> list[Any]:
    """RapidOCR's (points, text, score) triples for `image`."""
    array = np.asarray(image.convert("RGB"))
    with _lock:  # one inference at a time: the session is shared and the box has two cores
        # The 180° line classifier flipped a third of the lines of clean printed pages in tests
        # (and dropped others), so text is taken as upright.
        output = ocr_engine()(array, use_cls=False)
    if output.boxes is None or output.txts is None or output.scores is None:
        return []  # nothing detected
    return list(zip(output.boxes.tolist(), output.txts, output.scores, strict=True))


def _lines(boxes: list[Any]) -> str:
    """Join boxes that sit on the same visual line with spaces, and lines with newlines."""
    items = []
    for points, text, _score in boxes:
        ys = [point[1] for point in points]
        xs = [point[0] for point in points]
        items.append((min(ys), max(ys), min(xs), str(text).strip()))
    items.sort(key=lambda item: (item[0], item[2]))
    lines: list[list[tuple[float, float, float, str]]] = []
    for item in items:
        top, bottom = item[0], item[1]
        if lines:
            last = lines[-1]
            last_top = min(i[0] for i in last)
            last_bottom = max(i[1] for i in last)
            # Boxes overlapping vertically by half their height share a line.
            overlap = min(bottom, last_bottom) - max(top, last_top)
            if overlap > 0.5 * min(bottom - top, last_bottom - last_top):
                last.append(item)
                continue
        lines.append([item])
    return "\n".join(
        " ".join(i[3] for i in sorted(line, key=lambda i: i[2]) if i[3]) for line in lines
    ).strip()
