"""index/readers/docx.py: Word files made here with python-docx, read back in body order."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE

from index.readers import Block, ReadError, read, row

HEADER = ("Standard", "Number", "Expires")


def certificates(path: Path, core_title: str = "", title_style: bool = True) -> Path:
    word = docx.Document()
    word.core_properties.title = core_title
    section = word.sections[0]
    section.header.paragraphs[0].text = "HeaderWord Acme Corp"
    section.footer.paragraphs[0].text = "FooterWord Confidential"
    if title_style:
        word.add_paragraph("Acme   Certificates", style="Title")
    word.add_heading("ISO 27001", level=1)
    para = word.add_paragraph("Acme is certified to ISO/IEC 27001:2022.")
    para.add_run().add_break()
    para.add_run("Scope:\tall\u00a0offices.")
    word.add_paragraph("")                                  # empty: nothing to read
    word.add_heading("Scope", level=2)
    word.add_paragraph("Certificate Number: IS 552878")
    custom = word.styles.add_style("Cert Heading", WD_STYLE_TYPE.PARAGRAPH)
    custom.base_style = word.styles["Heading 2"]
    word.add_paragraph("Register", style="Cert Heading")
    table = word.add_table(rows=5, cols=3)
    for cell, text in zip(table.rows[0].cells, HEADER):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ("ISO 27001", "IS 552878", "2027-02-28")):
        cell.text = text
    table.cell(2, 0).merge(table.cell(3, 0)).text = "SOC 2"           # down two rows
    table.cell(2, 1).text, table.cell(2, 2).text = "Type I", "2023-01-01"
    table.cell(3, 1).text, table.cell(3, 2).text = "Type II", "2024-05-01"
    table.cell(4, 0).text = "PCI DSS"
    table.cell(4, 1).merge(table.cell(4, 2)).text = "In progress"     # across two columns
    word.add_paragraph("Issued: 1 March 2024")
    word.save(str(path))
    return path


def test_body_in_order_with_headings_and_table_rows(tmp_path):
    doc = read(certificates(tmp_path / "certs.docx"))
    assert doc.blocks == [
        Block("heading", "Acme Certificates", level=1, line=1),
        Block("heading", "ISO 27001", level=1, line=2),
        Block("text", "Acme is certified to ISO/IEC 27001:2022.\nScope: all offices.", line=3),
        Block("heading", "Scope", level=2, line=5),
        Block("text", "Certificate Number: IS 552878", line=6),
        Block("heading", "Register", level=2, line=7),
        row(["ISO 27001", "IS 552878", "2027-02-28"], HEADER, line=8),
        row(["SOC 2", "Type I", "2023-01-01"], HEADER, line=8),
        row(["Type II", "2024-05-01"], HEADER, line=8),
        row(["PCI DSS", "In progress"], HEADER, line=8),
        Block("text", "Issued: 1 March 2024", line=9),
    ]
    text = "\n".join(b.text for b in doc.blocks)
    assert "HeaderWord" not in text and "FooterWord" not in text


def test_title_from_properties_then_title_style_then_first_heading(tmp_path):
    assert read(certificates(tmp_path / "a.docx")).title == "Acme Certificates"
    assert read(certificates(tmp_path / "b.docx", core_title=" Trust Pack ")).title == "Trust Pack"
    assert read(certificates(tmp_path / "c.docx", title_style=False)).title == "ISO 27001"


def test_no_date_from_the_template_properties(tmp_path):
    path = certificates(tmp_path / "certs.docx")
    assert docx.Document(str(path)).core_properties.created is not None   # python-docx's 2013 stamp
    doc = read(path)
    assert doc.date is None
    assert not any(isinstance(v, str) and "2013" in v for v in doc.meta.values())


def test_a_first_row_of_numbers_or_a_single_row_is_not_a_header(tmp_path):
    word = docx.Document()
    table = word.add_table(rows=2, cols=2)
    for cell, text in zip(table.rows[0].cells + table.rows[1].cells, ("2023", "2024", "passed", "passed")):
        cell.text = text
    single = word.add_table(rows=1, cols=2)
    single.cell(0, 0).text, single.cell(0, 1).text = "Auditor", "BSI"
    word.save(str(tmp_path / "t.docx"))
    assert read(tmp_path / "t.docx").blocks == [
        row(["2023", "2024"], line=1), row(["passed", "passed"], line=1), row(["Auditor", "BSI"], line=2)]


def test_a_file_that_is_not_a_word_package_is_refused(tmp_path):
    (tmp_path / "fake.docx").write_bytes(b"{\\rtf1 an RTF file renamed .docx}")
    with pytest.raises(ReadError, match="not a Word .docx file"):
        read(tmp_path / "fake.docx")
    with zipfile.ZipFile(tmp_path / "zip.docx", "w") as z:
        z.writestr("notes.txt", "a zip, but no Word document inside")
    with pytest.raises(ReadError, match="not a Word .docx file"):
        read(tmp_path / "zip.docx")
