"""Fixture files built in memory: every test document is generated, none is checked in."""

from __future__ import annotations

import functools
import subprocess
import tempfile
from collections.abc import Sequence
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def docx_bytes() -> bytes:
    """A Word file: title, two heading levels, paragraphs, a 2x3 table, Chinese text."""
    import docx

    document = docx.Document()
    document.add_heading("Employee Handbook", level=0)
    document.add_heading("Chapter 1 Leave", level=1)
    document.add_paragraph("Staff get twenty days of paid leave.")
    document.add_heading("1.1 Sick leave", level=2)
    document.add_paragraph("Sick leave needs a note from a doctor after three days.")
    table = document.add_table(rows=3, cols=2)
    for row, (name, days) in zip(
        table.rows, [("Type", "Days"), ("Annual", "20"), ("Sick", "10")], strict=True
    ):
        row.cells[0].text, row.cells[1].text = name, days
    document.add_heading("Chapter 2 年假", level=1)
    document.add_paragraph("员工每年享有二十天带薪年假。")
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx_bytes(rows: Sequence[Sequence[object]], *, sheets: int = 1) -> bytes:
    """A workbook whose every sheet holds `rows` (header row first)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    for index in range(sheets):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        sheet.title = f"Sheet{index + 1}"
        for row in rows:
            sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def pptx_bytes() -> bytes:
    """Three slides: title + bullets, title + table, title + notes."""
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "Quarterly review"
    slide.placeholders[1].text = "Revenue grew 12%\nCosts fell 3%"
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "Regions"
    table = slide.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    for (r, c), text in {(0, 0): "Region", (0, 1): "Sales", (1, 0): "North", (1, 1): "40"}.items():
        table.cell(r, c).text = text
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "下一步"
    slide.notes_slide.notes_text_frame.text = "Mention the hiring plan."
    buffer = BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


SALES = [
    ["Region", "Quarter", "Sales"],
    ["North", "Q1", 40],
    ["South", "Q1", 55],
    ["东部", "Q2", 61],
]
# Each legacy format, the modern file LibreOffice makes it from, and its export filter.
_LEGACY_MADE_FROM = {
    "doc": ("docx", "doc:MS Word 97"),
    "rtf": ("docx", "rtf:Rich Text Format"),
    "odt": ("docx", "odt:writer8"),
    "xls": ("xlsx", "xls:MS Excel 97"),
    "ods": ("xlsx", "ods:calc8"),
    "ppt": ("pptx", "ppt:MS PowerPoint 97"),
    "odp": ("pptx", "odp:impress8"),
}


@functools.cache
def legacy_office_files(soffice: str) -> dict[str, bytes]:
    """.doc, .rtf, .odt (from docx_bytes), .xls, .ods (from xlsx_bytes(SALES)) and .ppt, .odp
    (from pptx_bytes), each written by LibreOffice itself; made once per test session."""
    with tempfile.TemporaryDirectory(prefix="ragsite-test-legacy-") as work:
        folder = Path(work)
        sources = {"docx": docx_bytes(), "xlsx": xlsx_bytes(SALES), "pptx": pptx_bytes()}
        for suffix, data in sources.items():
            (folder / f"sample.{suffix}").write_bytes(data)
        made = {}
        for suffix, (source, export) in _LEGACY_MADE_FROM.items():
            subprocess.run(
                [soffice, "--headless", "--norestore", "--nolockcheck",
                 f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                 "--convert-to", export, "--outdir", str(folder / "out"),
                 str(folder / f"sample.{source}")],
                check=True, capture_output=True, timeout=180,
            )  # fmt: skip
            made[suffix] = (folder / "out" / f"sample.{suffix}").read_bytes()
    return made


def text_pdf_bytes(pages: list[str], *, cjk: bool = False) -> bytes:
    """A PDF with a text layer, one string per page (CJK needs the WenQuanYi font)."""
    from fpdf import FPDF

    pdf = FPDF()
    if cjk:
        pdf.add_font("wqy", fname=str(CJK_FONT))
        pdf.set_font("wqy", size=12)
    else:
        pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 7, text)
    return bytes(pdf.output())


def encrypted_pdf_bytes() -> bytes:
    """A PDF that needs a password to open."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "Top secret")
    return bytes(pdf.output())


def text_png_bytes(lines: list[str], *, size: tuple[int, int] = (1200, 400)) -> bytes:
    """A white PNG with black text drawn in a large font."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=48)
    for index, line in enumerate(lines):
        draw.text((40, 60 + 110 * index), line, fill="black", font=font)
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def scanned_pdf_bytes(first_page_text: str, scanned_lines: list[str]) -> bytes:
    """Page 1 has a text layer; page 2 is only a picture of text."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 7, first_page_text)
    pdf.add_page()
    pdf.image(BytesIO(text_png_bytes(scanned_lines)), x=10, y=10, w=190)
    return bytes(pdf.output())


def eml_bytes(*, attachment: tuple[str, bytes] | None = None, html: str | None = None) -> bytes:
    """An email with a plain body (or only an HTML one) and an optional attachment."""
    message = EmailMessage()
    message["From"] = "Alice <alice@example.com>"
    message["To"] = "Bob <bob@example.com>"
    message["Subject"] = "Quarterly numbers"
    message["Date"] = "Mon, 02 Nov 2026 10:00:00 +0000"
    if html is None:
        message.set_content("Hi Bob,\n\nThe numbers are attached.\n\nAlice")
    else:
        message.set_content(html, subtype="html")
    if attachment is not None:
        name, data = attachment
        maintype, subtype = (
            ("text", "plain") if name.endswith(".txt") else ("application", "octet-stream")
        )
        if maintype == "text":
            message.add_attachment(data.decode(), subtype=subtype, filename=name)
        else:
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


TWO_COLUMN_PROSE = (
    "Reading order matters when a page has two columns of text. The parser must finish the "
    "left column before it starts the right one, or sentences from both columns mix. "
)
TWO_COLUMN_TABLE = [
    ("Model", "Accuracy", "Latency"),
    ("Alpha", "91.2", "12 ms"),
    ("Beta", "88.7", "8 ms"),
    ("Gamma", "93.5", "30 ms"),
]
MM = 72 / 25.4  # points per millimetre
# Where two_column_pdf_bytes draws its table on page 2 (mm): x 20-190, top 150, rows 7 mm.
TABLE_BOX_MM = (20.0, 190.0, 150.0, 150.0 + 7.0 * len(TWO_COLUMN_TABLE))


def two_column_pdf_bytes(pages: int = 3, *, table_rows: int = 0) -> bytes:
    """An A4 paper: a running header and a page number on every page, a title and a section
    heading, two columns whose first and last sentences name their page and side, a ruled
    full-width table (caption below) on page 2, and a figure with its caption on page 3.
    `table_rows` adds that many rows to the table (a long table spills over its page)."""
    from fpdf import FPDF
    from PIL import Image

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    for page in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("helvetica", size=8)
        pdf.set_xy(20, 8)
        pdf.cell(0, 5, "Journal of Layout Studies - Volume 7")
        pdf.set_xy(20, 285)
        pdf.cell(170, 5, str(page), align="C")
        top = 20
        if page == 1:
            pdf.set_font("helvetica", "B", 18)
            pdf.set_xy(20, 20)
            pdf.cell(170, 10, "A Study of Two Columns", align="C")
            top = 36
        pdf.set_font("helvetica", "B", 12)
        pdf.set_xy(20, top)
        pdf.cell(80, 6, f"{page}. Section on page {page}")
        pdf.set_font("helvetica", size=10)
        for side, x in (("Left", 20), ("Right", 110)):
            pdf.set_xy(x, top + 8)
            pdf.multi_cell(
                80,
                5,
                f"{side} column page {page} begins here. {TWO_COLUMN_PROSE * 3}"
                f"{side} column page {page} ends here.",
            )
        if page == 2:
            x0, x1, table_top, _ = TABLE_BOX_MM
            pdf.set_xy(x0, table_top)
            rows = list(TWO_COLUMN_TABLE)
            rows += [(f"Extra {n}", f"{50 + n}.0", f"{n} ms") for n in range(1, table_rows + 1)]
            with pdf.table(width=x1 - x0, col_widths=(50, 60, 60), line_height=7) as table:
                for values in rows:
                    row = table.row()
                    for value in values:
                        row.cell(value)
            pdf.set_xy(x0, pdf.get_y() + 4)
            pdf.cell(0, 5, "Table 1: Accuracy and latency of the three models.")
        if page == 3:
            picture = Image.new("RGB", (300, 150), (40, 90, 160))
            buffer = BytesIO()
            picture.save(buffer, "PNG")
            pdf.image(buffer, x=60, y=170, w=90, h=45)
            pdf.set_xy(60, 218)
            pdf.cell(90, 5, "Figure 1: A blue rectangle standing in for a chart.")
    return bytes(pdf.output())


def table_png_bytes(rows: list[list[str]], *, size: tuple[int, int] = (1400, 500)) -> bytes:
    """A picture of an unruled table: each row's cells drawn at fixed column offsets."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    for index, row in enumerate(rows):
        for column, cell in enumerate(row):
            draw.text((40 + 440 * column, 40 + 90 * index), cell, fill="black", font=font)
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def scanned_table_pdf_bytes(rows: list[list[str]]) -> bytes:
    """One page that is only a picture of a table."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.image(BytesIO(table_png_bytes(rows)), x=10, y=20, w=190)
    return bytes(pdf.output())
