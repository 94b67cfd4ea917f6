"""A deterministic corpus of text-layer PDFs, DOCX and TXT files made of varied English prose.

Sentences are assembled from word lists with a seeded RNG, so every paragraph differs (chunk ids
are content hashes: repeated text would be deduplicated away) while the corpus is the same on
every run. A "page" is ~500 words: a PDF page as laid out by fpdf2, 1500 words of DOCX = 3 pages.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

WORDS_PER_PAGE = 500


def _words(text: str, sep: str | None = None) -> list[str]:
    """A word list written as a block of text (one-word items, or `sep`-separated phrases)."""
    return [" ".join(item.split()) for item in text.split(sep)]


_SUBJECTS = _words("""team committee researcher engineer council manager analyst farmer teacher
student company agency survey report study customer supplier hospital library museum city
village government board doctor nurse pilot captain editor author reviewer inspector""")
_ADJECTIVES = _words("""careful detailed recent annual regional quiet rapid modest significant
unexpected practical complex local national historic reliable costly efficient fragile
seasonal coastal rural urban technical early later broad narrow steady uneven public private
formal informal""")
_NOUNS = _words("""budget harvest bridge network schedule proposal river market contract policy
archive warehouse railway election forecast treatment experiment dataset pipeline vaccine
factory festival reservoir highway curriculum audit license border inventory climate
migration pension tariff drought satellite""")
_VERBS = _words("""reviewed approved delayed measured expanded questioned funded repaired
published described replaced inspected recorded predicted reduced doubled compared rejected
simplified documented negotiated restored monitored announced""")
_ADVERBS = _words("""quickly slowly carefully openly briefly formally quietly repeatedly partly
largely eventually initially""")
_PLACES = _words(
    """the northern valley|the old harbour|the capital|three provinces|the eastern
district|the upper basin|the county archives|the national park|the coastal towns|the river
delta|the mining region|the university campus""",
    "|",
)
_CONNECTORS = _words(
    """However|Meanwhile|As a result|In contrast|Moreover|Later that year|
According to the minutes|For this reason|In practice|By the spring""",
    "|",
)
_TOPICS = _words(
    """Background|Methods|Findings|Budget and funding|Risks|Timeline|Stakeholders|
Recommendations|Regional differences|Open questions|Appendix notes|Lessons learned""",
    "|",
)


@dataclass(frozen=True)
class CorpusFile:
    """One file to upload: its name, bytes, and how many pages of text it holds."""

    name: str
    blob: bytes
    pages: int
    kind: str


class Prose:
    """Seeded generator of plausible, non-repeating English sentences and paragraphs."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def _pick(self, words: list[str]) -> str:
        return self.rng.choice(words)

    def sentence(self) -> str:
        r, p = self.rng, self._pick
        number = r.randint(2, 980)
        forms = [
            f"The {p(_ADJECTIVES)} {p(_SUBJECTS)} {p(_VERBS)} the {p(_NOUNS)} in {p(_PLACES)}.",
            f"{p(_CONNECTORS)}, the {p(_SUBJECTS)} {p(_ADVERBS)} {p(_VERBS)} a {p(_ADJECTIVES)} "
            f"{p(_NOUNS)} worth {number} thousand.",
            f"In {r.randint(1950, 2024)}, {number} residents of {p(_PLACES)} saw the "
            f"{p(_NOUNS)} {p(_VERBS)} by the {p(_SUBJECTS)}.",
            f"A {p(_ADJECTIVES)} {p(_NOUNS)} was {p(_VERBS)} after the {p(_SUBJECTS)} found that "
            f"the {p(_NOUNS)} had been {p(_ADVERBS)} {p(_VERBS)}.",
            f"Nobody expected the {p(_NOUNS)} to matter, yet the {p(_SUBJECTS)} {p(_VERBS)} it "
            f"{p(_ADVERBS)} and {p(_VERBS)} the {p(_ADJECTIVES)} {p(_NOUNS)} as well.",
        ]
        return r.choice(forms)

    def paragraph(self, words: int) -> str:
        """Sentences until about `words` words."""
        out: list[str] = []
        count = 0
        while count < words:
            sentence = self.sentence()
            out.append(sentence)
            count += len(sentence.split())
        return " ".join(out)

    def paragraphs(self, total_words: int) -> list[str]:
        out: list[str] = []
        count = 0
        while count < total_words:
            paragraph = self.paragraph(min(self.rng.randint(60, 140), total_words - count))
            out.append(paragraph)
            count += len(paragraph.split())
        return out

    def heading(self) -> str:
        return f"{self._pick(_TOPICS)}: the {self._pick(_ADJECTIVES)} {self._pick(_NOUNS)}"


def make_pdf(prose: Prose, title: str, pages: int) -> tuple[bytes, int]:
    """A PDF with a text layer (core Helvetica), filled with prose up to `pages` pages."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    for _ in range(pages * 40):  # far more than fits: stop when the last page is full
        if prose.rng.random() < 0.15:
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 8, prose.heading(), new_x="LMARGIN", new_y="NEXT")
        paragraph = prose.paragraph(prose.rng.randint(60, 140))
        pdf.set_font("Helvetica", "", 11)
        height = float(pdf.multi_cell(0, 5.5, paragraph, dry_run=True, output="HEIGHT"))  # type: ignore[arg-type]
        if pdf.page_no() == pages and pdf.get_y() + height + 5.5 > pdf.h - 20:
            break
        pdf.multi_cell(0, 5.5, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    return bytes(pdf.output()), pdf.pages_count


def make_docx(prose: Prose, title: str, pages: int) -> bytes:
    """A Word document: a title, then sections of a heading and a few paragraphs."""
    from docx import Document

    document = Document()
    document.add_heading(title, level=1)
    remaining = pages * WORDS_PER_PAGE
    while remaining > 0:
        document.add_heading(prose.heading(), level=2)
        for paragraph in prose.paragraphs(min(remaining, prose.rng.randint(250, 450))):
            document.add_paragraph(paragraph)
            remaining -= len(paragraph.split())
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_txt(prose: Prose, title: str) -> bytes:
    body = "\n\n".join(prose.paragraphs(WORDS_PER_PAGE))
    return f"{title}\n\n{body}\n".encode()


def make_corpus(
    *, pdfs: int = 12, pdf_pages: int = 10, docx: int = 20, docx_pages: int = 3, txts: int = 40
) -> list[CorpusFile]:
    """The whole corpus, the same bytes for the same arguments."""
    files: list[CorpusFile] = []
    for index in range(pdfs):
        prose = Prose(1000 + index)
        blob, pages = make_pdf(prose, f"Field report {index + 1}: {prose.heading()}", pdf_pages)
        files.append(CorpusFile(f"report-{index + 1:02d}.pdf", blob, pages, "pdf"))
    for index in range(docx):
        prose = Prose(2000 + index)
        blob = make_docx(prose, f"Memo {index + 1}: {prose.heading()}", docx_pages)
        files.append(CorpusFile(f"memo-{index + 1:02d}.docx", blob, docx_pages, "docx"))
    for index in range(txts):
        prose = Prose(3000 + index)
        blob = make_txt(prose, f"Note {index + 1}: {prose.heading()}")
        files.append(CorpusFile(f"note-{index + 1:02d}.txt", blob, 1, "txt"))
    return files
