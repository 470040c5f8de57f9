"""Ingestion: each quirk of the seeds, and documents in the same style it has never seen."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.catalog import Catalog, load_catalog
from index.ingest import load_sections as _load_sections
from index.ingest import merge_duplicates, visible_text
from index.ingest import parse_file as parse_document
from index.readers import ReadError


def load_sections(seeds, catalog):
    sections, skipped = _load_sections(seeds, catalog)
    assert skipped == []
    return sections


read_document = visible_text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
REGION = SEEDS / "001_f1959257ed4868ff.txt"     # the long "Region and Industry Recognition" export
TRUCS_HEADLESS = SEEDS / "000_7e659ee83d007b3c.txt"
C5_BROKEN = SEEDS / "002_90ca8d4597dc99d6.txt"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(ROOT / "data")


@pytest.fixture(scope="module")
def region(catalog):
    return {s.title: s for s in parse_document(REGION, catalog)}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sections_start_at_heading_followed_by_last_updated(region):
    assert "TISAX" in region and "CDN Qualification" in region
    assert region["TISAX"].last_updated == "2024-06-24"
    assert region["CDN Qualification"].last_updated == "2018-06-22"
    # The MPAA heading has a whitespace-only line before its date.
    assert region["The Motion Picture Association of America (MPAA)"].last_updated == "2024-12-12"
    assert len(region) == 21


def test_notices_and_table_of_contents_are_dropped(region):
    text = "\n".join(s.text for s in region.values())
    for boiler in ("Copyright Notice", "All rights reserved", "Trademark Notice",
                   "does not form part of Tencent Cloud's terms", "Product Documentation"):
        assert boiler not in text
    assert "Contents" not in region
    # No section is just a table-of-contents line.
    assert all(len(s.text) > 200 for s in region.values())


def test_disclaimer_inside_a_section_is_dropped(region):
    fisc = region["The center for Financial Industry Information Systems (FISC)"]
    assert "FOR REFERENCE ONLY" not in fisc.text
    assert "SOC" in fisc.text


def test_heading_repeated_as_first_body_line_is_dropped(region):
    hipaa = region["HIPAA"]
    assert hipaa.blocks[0].text.startswith("The Health Insurance Portability")


def test_sentence_broken_across_lines_is_rejoined(region):
    trucs = region["Trusted Cloud Services Certification"]
    joined = [b.text for b in trucs.blocks if "service availability etc.)" in b.text]
    assert joined and joined[0].endswith("requirements demanded by the certification. It also attests to "
                                         "the user transparency provided as well as being a crucial benchmark "
                                         "which users may rely on to select a secure and trusted cloud service "
                                         "provider.")


def test_broken_encoding_is_repaired():
    text = read_document(C5_BROKEN)
    assert "Bundesamt für Sicherheit" in text
    assert "√" not in text


def test_repair_keeps_typography_verbatim():
    # Curly quotes must survive, or quoted passages would not match the document.
    assert "“Gold Class Operations”" in read_document(REGION)


def test_headless_document_is_named_from_data(catalog):
    sections = parse_document(TRUCS_HEADLESS, catalog)
    assert sections[0].title == "Trusted Cloud Services Certification"
    assert sections[0].certification == "Trusted Cloud Services (TRUCS)"


def test_markdown_subheadings_split_parts(catalog):
    titles = [s.title for s in parse_document(TRUCS_HEADLESS, catalog)]
    assert "Business Lines that have been awarded the Trusted Cloud Service Provider Certification" in titles
    assert "Trusted Cloud “Gold Class Operations” Special Assessment" in titles
    assert not any(t.startswith("#") for t in titles)


def test_same_section_in_several_files_is_merged_keeping_newest(catalog):
    sections = load_sections(SEEDS, catalog)
    by_title = {}
    for s in sections:
        by_title.setdefault(s.title, []).append(s)
    assert len(by_title["C5"]) == 1
    c5 = by_title["C5"][0]
    assert set(c5.sources) == {REGION.name, C5_BROKEN.name}
    assert c5.source == REGION.name and c5.last_updated == "2020-10-19"
    trucs = by_title["Trusted Cloud Services Certification"]
    assert len(trucs) == 1 and set(trucs[0].sources) == {REGION.name, TRUCS_HEADLESS.name}
    # The headless file's ### parts were absorbed, not left as separate answers.
    assert not any(s.source == TRUCS_HEADLESS.name for s in sections)


def test_sections_from_one_template_are_not_merged(catalog):
    titles = [s.title for s in load_sections(SEEDS, catalog)]
    assert "IT compliance audit in Thailand financial industry" in titles
    assert "IT compliance audit in Philippines financial industry" in titles
    assert len(titles) == 21


def test_certificate_numbers_with_labels(region, catalog):
    numbers = region["Trusted Cloud Services Certification"].numbers(catalog.vocabulary.generic_labels)
    found = {n.number: n.label for n in numbers}
    assert found["02016"] == "Cloud Object Storage Services"
    assert found["H02010"] == "Private Cloud Segment"
    assert len(found) == 11
    # A generic label takes the heading above it.
    assert found["G01004"].startswith("Trusted Cloud “Gold Class Operations” Special Assessment")


def test_sections_without_numbers_state_none(region, catalog):
    assert region["PCI DSS Certification"].numbers(catalog.vocabulary.generic_labels) == []


def test_new_document_with_front_matter_and_number_variants(tmp_path, catalog):
    path = write(tmp_path, "new.txt", """---
title: ISO/IEC 27017 at Example Cloud
visibility: internal
source_url: https://example.com/iso
---

ISO 27017 Certification

Last updated : 2025-01-31 09:00:00

Tencent Cloud holds ISO/IEC 27017 certification for cloud services.

### Certificates

Cloud Object Storage Services Certificate No.: QX-2020-0042

Registration Number: AB-1234

Cloud Hosting No. 778899
""")
    sections = parse_document(path, catalog)
    assert {s.visibility for s in sections} == {"internal"}
    assert {s.source_url for s in sections} == {"https://example.com/iso"}
    assert sections[0].title == "ISO 27017 Certification" and sections[0].last_updated == "2025-01-31"
    part = next(s for s in sections if s.title == "Certificates")
    numbers = {n.number: n.label for n in part.numbers(catalog.vocabulary.generic_labels)}
    assert numbers == {"QX-2020-0042": "Cloud Object Storage Services Certificate",
                       "AB-1234": "Certificates — Registration", "778899": "Cloud Hosting"}


def test_a_no_without_digits_is_not_a_certificate_number(tmp_path, catalog):
    path = write(tmp_path, "x.txt", "Title here\n\nLast updated : 2024-01-01\n\nAnswer No: Yes\n\nReal text follows here.\n")
    (section,) = parse_document(path, catalog)
    assert section.numbers(catalog.vocabulary.generic_labels) == []


def test_a_certification_number_in_running_text_is_a_certificate_number(tmp_path, catalog):
    path = write(tmp_path, "x.txt", "ONC Certification\n\nLast updated : 2024-08-01\n\n"
                 "The product was certified 07/31/2024, and its Unique Certification Number "
                 "15.04.04.3147.Medp.03.01.1.240731 is listed by the ONC.\n")
    (section,) = parse_document(path, catalog)
    assert [n.number for n in section.numbers(catalog.vocabulary.generic_labels)] == [
        "15.04.04.3147.Medp.03.01.1.240731"]


def test_unknown_front_matter_keys_are_ignored_and_known_ones_used(tmp_path, catalog):
    path = write(tmp_path, "page.txt", "---\ntitle: Aurora Seal\ndescription: x\nauthor: y\nms.topic: conceptual\n"
                                       "visiblity: internal\nms.date: 06/24/2024\n---\nBody text here.\n")
    (section,) = parse_document(path, catalog)
    assert section.title == "Aurora Seal" and section.last_updated == "2024-06-24"
    assert section.visibility == "public"          # the misspelt key is not "visibility"
    assert "description" not in section.text and "Body text here." in section.text


def test_invalid_front_matter_yaml_is_left_out_and_the_page_read(tmp_path, catalog, caplog):
    path = write(tmp_path, "bad.txt", "---\ntitle: ok\nsource_url: a: b\n---\nBody text.\n")
    (section,) = parse_document(path, catalog)
    assert section.text == "Body text." and "not valid YAML" in caplog.text


def test_unknown_visibility_is_read_as_internal(tmp_path, catalog, caplog):
    path = write(tmp_path, "bad.txt", "---\nvisibility: secret\n---\nBody text.\n")
    (section,) = parse_document(path, catalog)
    assert section.visibility == "internal" and "secret" in caplog.text


def test_unclosed_front_matter_is_text_not_metadata(tmp_path, catalog):
    path = write(tmp_path, "odd.txt", "---\nvisibility: internal\nBody text.\n")
    (section,) = parse_document(path, catalog)
    assert section.visibility == "public" and "Body text." in section.text


def test_windows_1252_text_is_decoded(tmp_path, catalog):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Heading\n\nLast updated : 2024-01-01\n\nGr\xfc\xdfe aus K\xf6ln.\n".encode("cp1252"))
    (section,) = parse_document(path, catalog)
    assert section.text == "Grüße aus Köln."


def test_binary_file_is_refused(tmp_path, catalog):
    path = tmp_path / "x.txt"
    path.write_bytes(b"text\n\x00\x01")
    with pytest.raises(ReadError, match="binary"):
        parse_document(path, catalog)


def test_headless_document_without_metadata_is_named_from_content(tmp_path, catalog):
    path = write(tmp_path, "unknown.txt", "Tencent Cloud has obtained the K-ISMS certification again. "
                                          "K-ISMS is a Korean scheme.\n")
    (section,) = parse_document(path, catalog)
    assert section.title == "KISMS"


def test_merge_requires_same_audience(tmp_path, catalog):
    text = "Heading\n\nLast updated : 2024-01-01\n\n" + "Shared words of one section repeated here. " * 5 + "\n"
    a = parse_document(write(tmp_path, "a.txt", text), catalog)
    b = parse_document(write(tmp_path, "b.txt", "---\nvisibility: internal\n---\n" + text), catalog)
    assert len(merge_duplicates(a + b)) == 2
    assert len(merge_duplicates(a + parse_document(write(tmp_path, "c.txt", text), catalog))) == 1


def test_reading_files_in_two_processes_gives_the_same_sections(catalog, tmp_path, monkeypatch):
    """Large corpora are read by two processes: the same sections in the same order, and an
    unreadable file still skipped with its reason."""
    import shutil

    import index.ingest as ingest

    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "broken.txt").write_bytes(b"\x00\x01\x02" * 400)
    serial = _load_sections(seeds, catalog)
    monkeypatch.setattr(ingest, "PARALLEL_FILES", 1)
    assert _load_sections(seeds, catalog) == serial
    assert [s.source for s in serial[1]] == ["broken.txt"]
