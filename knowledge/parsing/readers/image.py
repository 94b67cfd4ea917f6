"""Images: the text OCR finds in them; every page of a multi-page TIFF."""

from __future__ import annotations

import warnings
from io import BytesIO

from PIL import Image, UnidentifiedImageError

from knowledge.parsing.context import ParseContext
from knowledge.parsing.readers.ocr import ocr_image
from knowledge.parsing.text import clean_text
from knowledge.parsing.types import Block, Extracted, ParseError

MAX_PAGES = (
    100  # scanned TIFFs rarely have more; animated GIFs and WEBPs only use their first frame
)


def read_image(data: bytes, filename: str, ctx: ParseContext) -> Extracted:
    """One block of OCR text per page (frame) that has text."""
    try:
        with warnings.catch_warnings():
            # Refuse images big enough to exhaust memory instead of merely warning about them.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ParseError(f"{filename} is too large to read: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ParseError(f"{filename} is not a readable image: {exc}.") from exc
    frames = int(getattr(image, "n_frames", 1))
    multipage = image.format == "TIFF" and frames > 1
    count = min(frames, MAX_PAGES) if multipage else 1
    blocks = []
    for index in range(count):
        ctx.tick(index, count, f"Reading the image with OCR ({index + 1}/{count}).")
        image.seek(index)
        text = clean_text(ocr_image(image))
        if text:
            blocks.append(Block(text, page=index + 1 if multipage else None))
    if not blocks:
        raise ParseError("No text was found in the image.")
    return Extracted(blocks=blocks, pages=count, paged=multipage)
