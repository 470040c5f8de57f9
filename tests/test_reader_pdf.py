"""index/readers/pdf.py: PDFs made here with fpdf2, read back as paragraphs and headings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fpdf import FPDF
from fpdf.enums import EncryptionMethod
from pypdf import PdfReader, PdfWriter

from index.readers import Block, ReadError, read

CREATED = dt.datetime(2024, 3, 5, 10, 0, tzinfo=dt.timezone.utc)


def new_pdf(title: str | None = None, footer: bool = True) -> FPDF:
    pdf = FPDF()
    if title is not None:
        pdf.set_title(title)
    pdf.set_creation_date(CREATED)
    if footer:
        def draw_footer() -> None:
            pdf.set_y(-15)
            pdf.set_font("Helvetica", size=8)
            pdf.cell(0, 10, f"Acme Corp - Confidential - Page {pdf.page_no()} of {{nb}}", align="C")
        pdf.footer = draw_footer
    return pdf


def put(pdf: FPDF, text: str, size: float = 11, style: str = "", gap: float = 0) -> None:
    """A paragraph (or heading) of `text`; `gap` mm of space above it."""
    if gap:
        pdf.ln(gap)
    pdf.set_font("Helvetica", style, size)
    pdf.multi_cell(0, size * 0.45, text, new_x="LMARGIN", new_y="NEXT")   # 1.28 x size


def certificate(path: Path, title: str | None = "ISO 27001 Certificate", **options) -> Path:
    pdf = new_pdf(title)
    pdf.set_encryption(**options) if options else None
    pdf.add_page()
    put(pdf, "Security Certificate", 20, "B")
    put(pdf, "This certifies that Acme Corp operates an information security management system. "
             "It covers all offices and the data centres we run.", gap=4)
    put(pdf, "Certificate Number: IS 552878\nIssued: 2024-03-01", gap=4)
    put(pdf, "Scope", 15, "B", gap=4)
    put(pdf, "Hosting and support of the Acme platform.")
    pdf.add_page()
    put(pdf, "Annex", 15, "B")
    put(pdf, "Sites: London, Leeds.")
    pdf.output(str(path))
    return path


CERTIFICATE_BLOCKS = [
    Block("heading", "Security Certificate", level=1, line=1),
    Block("text", "This certifies that Acme Corp operates an information security management system. "
                  "It covers all offices and\nthe data centres we run.", line=1),
    Block("text", "Certificate Number: IS 552878\nIssued: 2024-03-01", line=1),
    Block("heading", "Scope", level=2, line=1),
    Block("text", "Hosting and support of the Acme platform.", line=1),
    Block("heading", "Annex", level=2, line=2),
    Block("text", "Sites: London, Leeds.", line=2),
]


def test_paragraphs_headings_and_no_running_footer(tmp_path):
    doc = read(certificate(tmp_path / "cert.pdf"))
    assert doc.blocks == CERTIFICATE_BLOCKS
    assert not any("Confidential" in b.text or "Page" in b.text for b in doc.blocks)
    assert doc.title == "ISO 27001 Certificate"
    assert doc.date == "2024-03-05"
    assert doc.meta["title"] == "ISO 27001 Certificate"
    assert doc.meta["creationdate"].startswith("D:20240305")


@pytest.mark.parametrize("metadata_title", [None, "", "untitled", "Microsoft Word - cert.docx", "scan_0042.pdf"])
def test_a_placeholder_metadata_title_gives_way_to_the_first_heading(tmp_path, metadata_title):
    doc = read(certificate(tmp_path / "cert.pdf", title=metadata_title))
    assert doc.title == "Security Certificate"


def test_modification_date_beats_creation_date(tmp_path):
    source = certificate(tmp_path / "cert.pdf")
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.add_metadata({"/ModDate": "D:20250102030405+01'00'"})
    with (tmp_path / "modified.pdf").open("wb") as f:
        writer.write(f)
    doc = read(tmp_path / "modified.pdf")
    assert doc.date == "2025-01-02"
    assert doc.blocks == CERTIFICATE_BLOCKS


def test_heading_levels_follow_size_and_only_short_lines_are_headings(tmp_path):
    pdf = new_pdf(footer=False)
    pdf.add_page()
    put(pdf, "Acme Trust", 24, "B")
    put(pdf, "Report 2024", 24, "B")                  # a title set on two lines
    put(pdf, "Audits", 16, "B", gap=3)
    put(pdf, "We are audited every year by an independent firm\nthat reports to our board.", gap=3)
    put(pdf, "SOC 2", 13, "B", gap=3)
    put(pdf, "The SOC 2 Type II report covers security\nand availability.", gap=3)
    put(pdf, "A large line with far too many words in it to be any kind of heading at all", 16, gap=3)
    put(pdf, "Large but a sentence.", 16, gap=3)
    put(pdf, "Ask your account manager\nfor a copy.", gap=3)
    pdf.output(str(tmp_path / "levels.pdf"))
    doc = read(tmp_path / "levels.pdf")
    assert [(b.kind, b.level, b.text) for b in doc.blocks] == [
        ("heading", 1, "Acme Trust Report 2024"),
        ("heading", 2, "Audits"),
        ("text", 0, "We are audited every year by an independent firm\nthat reports to our board."),
        ("heading", 3, "SOC 2"),
        ("text", 0, "The SOC 2 Type II report covers security\nand availability."),
        ("text", 0, "A large line with far too many words in it to be any kind of heading at all"),
        ("text", 0, "Large but a sentence."),
        ("text", 0, "Ask your account manager\nfor a copy."),
    ]
    assert doc.title == "Acme Trust Report 2024"      # no /Title: the first heading


def test_evenly_spaced_lines_stay_one_paragraph(tmp_path):
    # Without a line pitch to compare with, a gap is not "clear": the lines stay together,
    # "\n"-joined, as a text file's lines without blank lines between them do.
    pdf = new_pdf(footer=False)
    pdf.add_page()
    for text in ("Certificate Number: IS 552878", "Issued: 2024-03-01", "Expires: 2027-02-28"):
        put(pdf, text)
    pdf.output(str(tmp_path / "even.pdf"))
    assert read(tmp_path / "even.pdf").blocks == [
        Block("text", "Certificate Number: IS 552878\nIssued: 2024-03-01\nExpires: 2027-02-28", line=1)]


def raw_pdf(content: bytes) -> bytes:
    """A one-page PDF around a hand-written content stream (fpdf2 never scales its text)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def test_sizes_come_from_the_text_and_page_matrices(tmp_path):
    # A 1pt font scaled 20x by the text matrix is a 20pt heading; 5.5pt text under a 2x page
    # matrix is 11pt body text, on the same paragraph as the plain 11pt line below it.
    (tmp_path / "scaled.pdf").write_bytes(raw_pdf(
        b"BT /F1 1 Tf 20 0 0 20 72 700 Tm (Scaled Title) Tj ET\n"
        b"q 2 0 0 2 0 0 cm BT /F1 5.5 Tf 36 320 Td (Body text drawn small in a doubled space.) Tj ET Q\n"
        b"BT /F1 11 Tf 72 626 Td (A second line, set plainly at eleven points.) Tj ET"))
    assert read(tmp_path / "scaled.pdf").blocks == [
        Block("heading", "Scaled Title", level=1, line=1),
        Block("text", "Body text drawn small in a doubled space.\nA second line, set plainly at eleven points.", line=1)]


def test_a_single_page_keeps_its_footer(tmp_path):
    pdf = new_pdf()
    pdf.add_page()
    put(pdf, "Only page.")
    pdf.output(str(tmp_path / "one.pdf"))
    assert [b.text for b in read(tmp_path / "one.pdf").blocks] == [
        "Only page.", "Acme Corp - Confidential - Page 1 of 1"]


def test_running_lines_go_but_body_lines_that_repeat_stay(tmp_path):
    pdf = new_pdf(footer=False)
    pdf.set_auto_page_break(False)
    for page in range(1, 5):
        pdf.add_page()
        if page <= 2:
            put(pdf, "DRAFT for review")              # on half of the pages: running
        if page == 1:
            put(pdf, "Annex note")                    # on one page: content
        for n in range(4):                            # differ only by numbers: content
            put(pdf, f"Clause {page}.{n} applies.")
        put(pdf, "Certificate Number: IS 552878")     # mid-page on every page: content
        for n in range(4, 8):
            put(pdf, f"Clause {page}.{n} applies.")
        pdf.set_y(-15)
        put(pdf, f"- {page} -")                       # page number
    pdf.output(str(tmp_path / "running.pdf"))
    doc = read(tmp_path / "running.pdf")
    text = "\n".join(b.text for b in doc.blocks)
    assert "DRAFT" not in text
    assert text.count("Annex note") == 1
    assert text.count("Certificate Number: IS 552878") == 4
    assert [b.text.splitlines()[-1] for b in doc.blocks] == [f"Clause {p}.7 applies." for p in range(1, 5)]
    assert [b.text.splitlines()[0] for b in doc.blocks] == ["Annex note", "Clause 2.0 applies.",
                                                            "Clause 3.0 applies.", "Clause 4.0 applies."]
    assert [b.line for b in doc.blocks] == [1, 2, 3, 4]


def test_a_password_locked_pdf_is_refused(tmp_path):
    path = certificate(tmp_path / "locked.pdf", owner_password="owner", user_password="secret",
                       encryption_method=EncryptionMethod.AES_256)
    with pytest.raises(ReadError, match="encrypted PDF: it needs a password"):
        read(path)


@pytest.mark.parametrize("method", [EncryptionMethod.RC4, EncryptionMethod.AES_128, EncryptionMethod.AES_256])
def test_a_permission_locked_pdf_with_an_empty_user_password_is_read(tmp_path, method):
    path = certificate(tmp_path / "permissions.pdf", owner_password="owner", user_password="",
                       encryption_method=method)
    assert PdfReader(path).is_encrypted
    assert read(path).blocks == CERTIFICATE_BLOCKS


def test_a_pdf_without_text_is_refused(tmp_path):
    pdf = new_pdf(footer=False)
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    pdf.output(str(tmp_path / "scan.pdf"))
    with pytest.raises(ReadError, match=r"no text layer \(a scanned image\?\)"):
        read(tmp_path / "scan.pdf")


def test_bytes_that_are_not_a_pdf_are_refused(tmp_path):
    (tmp_path / "fake.pdf").write_bytes(b"PK\x03\x04 this is a zip, or anything but a PDF")
    with pytest.raises(ReadError, match="not a PDF"):
        read(tmp_path / "fake.pdf")


def test_a_truncated_pdf_is_refused_not_crashed(tmp_path):
    whole = certificate(tmp_path / "cert.pdf").read_bytes()
    (tmp_path / "cut.pdf").write_bytes(whole[:300])
    with pytest.raises(ReadError):
        read(tmp_path / "cut.pdf")
