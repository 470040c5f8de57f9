"""Markdown and plain-text readers: small documents made here, read the way a person sees them.

Reader level (index/readers/markdown.py, text.py, frontmatter.py), then through ingest
(sections, heading paths, dates, certificate numbers, the certification's name) and, at the
end, through a tiny built index, so the names and units a question can use are checked too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from index.build import build_index
from index.catalog import Catalog, load_catalog, slug
from index.config import Paths
from index.ingest import parse_file
from index.naming import certification_of
from index.readers import read
from index.search import Engine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(ROOT / "data")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def by_title(sections) -> dict:
    return {s.display_title: s for s in sections}


def numbers_of(section, catalog: Catalog) -> list[tuple[str, str]]:
    return [(n.label, n.number) for n in section.numbers(catalog.vocabulary.generic_labels)]


# A docs-site page about a certification nobody curated in data/certifications.yaml.
ACTS_PAGE = """---
description: What the Aurora seal covers and where to find the register
author: jdoe
ms.author: jdoe
ms.service: compliance
ms.topic: conceptual
keywords: [aurora, seal, cloud]
contoso:
  reviewer: someone
  product_area: [storage, compute]
ms.date: 03/15/2025
---

# Aurora Cloud Trust Seal (ACTS)

<!-- editorial note: the Platinum tier is confidential until launch -->

[!INCLUDE [intro](../includes/intro.md)]

Example Cloud holds the **Aurora Cloud Trust Seal** at the Platinum tier, see the [ACTS registry](https://acts.example.org/registry?id=42) for details.

![ACTS logo](images/acts-logo.png)

## In scope

[Back to overview](overview.md)

The object storage and compute services are in scope for the seal.

### Certificates

| Service | Certificate number | Issued |
|---|---|---|
| Object Storage | AC-2024-0117 | 2024-02-01 |
| Compute | AC-2024-0118 | 2024-02-01 |

## Registration

| Field | Value |
|---|---|
| Registration No. | 77123 |
| Registered office | Dublin |
"""


# --- front matter ---------------------------------------------------------------------------


def test_front_matter_accepts_any_keys_and_keeps_them_out_of_the_text(tmp_path, catalog):
    path = write(tmp_path, "acts.md", ACTS_PAGE)
    doc = read(path)
    for key in ("description", "author", "ms.author", "ms.service", "keywords", "contoso", "ms.date"):
        assert key in doc.meta, key
    assert doc.date == "2025-03-15"
    sections = parse_file(path, catalog)
    assert sections, "a page with vendor front matter keys must still be read"
    text = "\n".join(s.text for s in sections)
    for value in ("jdoe", "conceptual", "where to find the register", "someone", "product_area"):
        assert value not in text
    assert {s.last_updated for s in sections} == {"2025-03-15"}


def test_front_matter_title_visibility_source_url_certification_are_used(tmp_path, catalog):
    path = write(tmp_path, "tisax-note.md", """---
title: TISAX for the Frankfurt region
visibility: internal
source_url: https://example.com/tisax-note
certification: TISAX
description: ignored
author: ignored too
last_updated: 2025-06-30
---

The Frankfurt region was assessed at TISAX assessment level 3 in June 2025.
""")
    (section,) = parse_file(path, catalog)
    assert section.path == ("TISAX for the Frankfurt region",)
    assert section.visibility == "internal"
    assert section.source_url == "https://example.com/tisax-note"
    assert section.certification == "TISAX"
    assert section.last_updated == "2025-06-30"
    assert certification_of(section, catalog).name == "TISAX"


@pytest.mark.parametrize("front, date", [
    ("last_updated: 2024-05-06", "2024-05-06"),
    ("updated: 2024-05-07", "2024-05-07"),
    ("lastmod: 2024-05-08T10:00:00Z", "2024-05-08"),
    ("date: 2024-05-09", "2024-05-09"),
    ("ms.date: 05/10/2024", "2024-05-10"),
    ("contoso.date: 2024-05-11", "2024-05-11"),
    # A named date key beats a generic one, and any of them beats a vendor "*.date".
    ("date: 2020-01-01\nlast_updated: 2024-05-12", "2024-05-12"),
    ("ms.date: 05/10/2024\nupdated: 2024-05-13", "2024-05-13"),
    # A value that is not a date is skipped, never guessed.
    ("date: TBD\nms.date: 2024-05-14", "2024-05-14"),
    ("created: 2024-05-15\nreviewer: x", None),
])
def test_front_matter_date_keys(tmp_path, catalog, front, date):
    path = write(tmp_path, "page.md", f"---\n{front}\n---\n\n# Page\n\nBody text of the page.\n")
    assert read(path).date == date
    (section,) = parse_file(path, catalog)
    assert section.last_updated == date


# --- titles and heading paths ---------------------------------------------------------------


def test_h1_is_the_title_without_a_front_matter_title(tmp_path, catalog):
    path = write(tmp_path, "acts.md", ACTS_PAGE)
    assert read(path).title == "Aurora Cloud Trust Seal (ACTS)"
    sections = parse_file(path, catalog)
    assert {s.path[0] for s in sections} == {"Aurora Cloud Trust Seal (ACTS)"}
    # The title is the path's root, not a section of its own repeated under itself.
    assert all(s.path.count("Aurora Cloud Trust Seal (ACTS)") == 1 for s in sections)


def test_front_matter_title_wins_over_the_h1(tmp_path, catalog):
    path = write(tmp_path, "page.md", "---\ntitle: Aurora Cloud Trust Seal\n---\n\n"
                                      "# Aurora Cloud Trust Seal\n\nExample Cloud holds the seal.\n")
    assert read(path).title == "Aurora Cloud Trust Seal"
    (section,) = parse_file(path, catalog)
    assert section.path == ("Aurora Cloud Trust Seal",)
    assert section.text == "Example Cloud holds the seal."


def test_headings_nest_into_paths(tmp_path, catalog):
    path = write(tmp_path, "seal.md", """---
title: Aurora Cloud Trust Seal
---

Example Cloud holds the Aurora Cloud Trust Seal.

## In scope

Object storage is in scope.

### Regions

Frankfurt and Paris are covered.

## Out of scope

Archive storage is not covered.
""")
    sections = by_title(parse_file(path, catalog))
    assert list(sections) == [
        "Aurora Cloud Trust Seal",
        "Aurora Cloud Trust Seal › In scope",
        "Aurora Cloud Trust Seal › In scope › Regions",
        "Aurora Cloud Trust Seal › Out of scope",      # back up a level: not under "Regions"
    ]
    assert sections["Aurora Cloud Trust Seal › In scope"].text == "Object storage is in scope."
    assert sections["Aurora Cloud Trust Seal › In scope › Regions"].text == "Frankfurt and Paris are covered."
    assert sections["Aurora Cloud Trust Seal › Out of scope"].text == "Archive storage is not covered."


# --- what is not a heading, and what a reader sees ------------------------------------------


def test_links_includes_comments_and_images_are_not_headings(tmp_path, catalog):
    path = write(tmp_path, "acts.md", ACTS_PAGE)
    doc = read(path)
    headings = [(b.level, b.text) for b in doc.blocks if b.kind == "heading"]
    assert headings == [(1, "Aurora Cloud Trust Seal (ACTS)"), (2, "In scope"), (3, "Certificates"),
                        (2, "Registration")]
    seen = "\n".join(b.text for b in doc.blocks)
    for hidden in ("editorial note", "INCLUDE", "intro.md", "ACTS logo", "acts-logo.png", "<!--"):
        assert hidden not in seen, hidden
    sections = by_title(parse_file(path, catalog))
    assert list(sections) == [
        "Aurora Cloud Trust Seal (ACTS)",
        "Aurora Cloud Trust Seal (ACTS) › In scope",
        "Aurora Cloud Trust Seal (ACTS) › In scope › Certificates",
        "Aurora Cloud Trust Seal (ACTS) › Registration",
    ]
    # The text after the comment, the include, the image and the link-only line stays in its
    # section instead of becoming a section titled by that line.
    assert "holds the Aurora Cloud Trust Seal at the Platinum tier" in sections["Aurora Cloud Trust Seal (ACTS)"].text
    assert ("The object storage and compute services are in scope for the seal."
            in sections["Aurora Cloud Trust Seal (ACTS) › In scope"].text)


def test_a_link_only_line_right_above_text_does_not_swallow_it(tmp_path, catalog):
    path = write(tmp_path, "page.md", "# Aurora Cloud Trust Seal\n\n"
                                      "[Back to overview](overview.md)\n"
                                      "Example Cloud holds the seal for object storage.\n\n"
                                      "![diagram](d.png)\n"
                                      "The seal is renewed every year.\n")
    doc = read(path)
    assert [b.kind for b in doc.blocks].count("heading") == 1
    (section,) = parse_file(path, catalog)
    assert section.path == ("Aurora Cloud Trust Seal",)
    assert "Example Cloud holds the seal for object storage." in section.text
    assert "The seal is renewed every year." in section.text
    assert "d.png" not in section.text and "overview.md" not in section.text


def test_link_text_without_url_and_no_emphasis_markers(tmp_path, catalog):
    path = write(tmp_path, "acts.md", ACTS_PAGE)
    (first, *_) = parse_file(path, catalog)
    assert first.text == ("Example Cloud holds the Aurora Cloud Trust Seal at the Platinum tier, "
                          "see the ACTS registry for details.")
    text = "\n".join(s.text for s in parse_file(path, catalog))
    for markup in ("**", "](", "https://", "acts.example.org", "overview.md"):
        assert markup not in text, markup


# --- tables and certificate numbers ---------------------------------------------------------


def test_table_rows_are_blocks_with_their_cells_and_header(tmp_path):
    doc = read(write(tmp_path, "acts.md", ACTS_PAGE))
    rows = [b for b in doc.blocks if b.kind == "row"]
    assert [r.cells for r in rows] == [
        ("Object Storage", "AC-2024-0117", "2024-02-01"),
        ("Compute", "AC-2024-0118", "2024-02-01"),
        ("Registration No.", "77123"),
        ("Registered office", "Dublin"),
    ]
    assert rows[0].header == ("Service", "Certificate number", "Issued")
    assert rows[0].text == "Object Storage · AC-2024-0117 · 2024-02-01"


def test_certificate_number_column_and_registration_row_are_extracted_with_labels(tmp_path, catalog):
    sections = by_title(parse_file(write(tmp_path, "acts.md", ACTS_PAGE), catalog))
    certificates = sections["Aurora Cloud Trust Seal (ACTS) › In scope › Certificates"]
    assert numbers_of(certificates, catalog) == [("Object Storage", "AC-2024-0117"), ("Compute", "AC-2024-0118")]
    registration = sections["Aurora Cloud Trust Seal (ACTS) › Registration"]
    assert numbers_of(registration, catalog) == [("Registration No.", "77123")]
    # Dates in an "Issued" column and a plain two-column row are not certificate numbers.
    assert all(numbers_of(s, catalog) == [] for t, s in sections.items()
               if not t.endswith(("Certificates", "Registration")))


def test_a_number_column_under_another_heading_is_not_a_certificate_number(tmp_path, catalog):
    path = write(tmp_path, "t.md", "# Seal\n\n| Service | Regions | Year |\n|---|---|---|\n"
                                   "| Compute | 12 | 2024 |\n")
    (section,) = parse_file(path, catalog)
    assert numbers_of(section, catalog) == []


# --- a certification nobody curated ---------------------------------------------------------


def test_uncurated_certification_is_named_by_its_title_and_its_acronym(tmp_path, catalog):
    assert catalog.certification("Aurora Cloud Trust Seal (ACTS)") is None
    sections = parse_file(write(tmp_path, "acts.md", ACTS_PAGE), catalog)
    certs = {certification_of(s, catalog) for s in sections}
    assert {c.name for c in certs} == {"Aurora Cloud Trust Seal (ACTS)"}
    assert all("ACTS" in c.names for c in certs)


def test_uncurated_certification_key_still_names_it_by_title_and_acronym(tmp_path, catalog):
    path = write(tmp_path, "acts.md", "---\ntitle: Aurora Cloud Trust Seal (ACTS)\n"
                                      "certification: Aurora Seal Programme\n---\n\n"
                                      "Example Cloud holds the seal for object storage.\n")
    assert catalog.certification("Aurora Seal Programme") is None
    (section,) = parse_file(path, catalog)
    cert = certification_of(section, catalog)
    # The front matter's own word for the certification is its name; the names the page's
    # title gives it are names a question can use too.
    assert cert.name == "Aurora Seal Programme"
    assert "ACTS" in cert.names and "Aurora Cloud Trust Seal (ACTS)" in cert.names


# --- through a built index: what a question can use -----------------------------------------


@pytest.fixture(scope="module")
def acts_engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("acts")
    write(root / "seeds", "acts.md", ACTS_PAGE)
    paths = Paths(seeds_dir=root / "seeds", data_dir=ROOT / "data", index_dir=root / "index")
    info = build_index(paths)
    assert info.skipped == () and info.documents == 1
    engine = Engine.open(paths)
    yield engine
    engine.close()


def test_the_acronym_a_title_defines_is_a_name_a_question_can_use(acts_engine):
    # Named, not merely matched as a word: naming decides that a question is about it.
    assert acts_engine.plan("do we have ACTS?").named == {slug("Aurora Cloud Trust Seal (ACTS)")}
    answer = acts_engine.ask("do we have ACTS?")
    assert answer.answered
    assert {r.certification for r in answer.results} == {"Aurora Cloud Trust Seal (ACTS)"}
    assert answer.results[0].source == "acts.md" and answer.results[0].last_updated == "2025-03-15"


def test_result_titles_are_heading_paths(acts_engine):
    top = acts_engine.ask("what is in scope for ACTS").results[0]
    assert top.title == "Aurora Cloud Trust Seal (ACTS) › In scope"
    assert top.passage == "The object storage and compute services are in scope for the seal."


@pytest.mark.parametrize("question, row, number", [
    ("ACTS certificate number for compute", "Compute · AC-2024-0118 · 2024-02-01", "AC-2024-0118"),
    ("ACTS certificate number for object storage", "Object Storage · AC-2024-0117 · 2024-02-01", "AC-2024-0117"),
])
def test_a_table_row_is_the_passage_and_its_number_comes_first(acts_engine, question, row, number):
    top = acts_engine.ask(question).results[0]
    assert top.title == "Aurora Cloud Trust Seal (ACTS) › In scope › Certificates"
    # Rows are units: the asked row whole, perhaps with the table's header row (so a listener
    # knows what each cell is), never a neighbouring row or a row cut in half.
    header = "Service · Certificate number · Issued"
    pieces = top.passage.split(" … ")
    assert row in pieces
    assert set(pieces) <= {row, header}
    assert top.certificate_numbers[0].number == number


def test_passages_quote_link_text_without_url_or_emphasis(acts_engine):
    top = acts_engine.ask("which ACTS tier do we hold").results[0]
    assert top.passage == ("Example Cloud holds the Aurora Cloud Trust Seal at the Platinum tier, "
                           "see the ACTS registry for details.")


def test_registration_number_question_gets_the_registration_row_first(acts_engine):
    answer = acts_engine.ask("ACTS registration number")
    assert [n.number for n in answer.results[0].certificate_numbers][:1] == ["77123"]


# --- plain text -----------------------------------------------------------------------------


def test_text_reader_headings_paragraphs_and_lines(tmp_path):
    path = write(tmp_path, "zephyr.txt", """---
title: Zephyr Seal
visibility: internal
---

Zephyr Cloud Assurance Seal

Last updated : 2026-10-01 12:00:00

Tencent Cloud was awarded the Zephyr seal
in October 2026.

### Regions

Frankfurt and Paris.
""")
    doc = read(path)
    assert doc.title == "Zephyr Seal" and doc.meta["visibility"] == "internal"
    assert [(b.kind, b.level, b.text) for b in doc.blocks] == [
        ("heading", 1, "Zephyr Cloud Assurance Seal"),   # short line followed by "Last updated :"
        ("text", 0, "Last updated : 2026-10-01 12:00:00"),
        ("text", 0, "Tencent Cloud was awarded the Zephyr seal\nin October 2026."),
        ("heading", 3, "Regions"),
        ("text", 0, "Frankfurt and Paris."),
    ]
    # Line numbers count the front matter: they point into the file as saved.
    assert [b.line for b in doc.blocks] == [6, 8, 10, 13, 15]


def test_text_sections_nest_and_carry_the_last_updated_date(tmp_path, catalog):
    path = write(tmp_path, "zephyr.txt", """Zephyr Cloud Assurance Seal

Last updated : 2026-10-01 12:00:00

Tencent Cloud was awarded the Zephyr Cloud Assurance Seal in October 2026.

### Regions

Frankfurt and Paris are covered.

Quasar Data Mark

Last updated : 2025-02-03 08:00:00

Tencent Cloud holds the Quasar Data Mark.
""")
    sections = by_title(parse_file(path, catalog))
    assert list(sections) == ["Zephyr Cloud Assurance Seal", "Zephyr Cloud Assurance Seal › Regions",
                              "Quasar Data Mark"]
    assert sections["Zephyr Cloud Assurance Seal"].last_updated == "2026-10-01"
    assert sections["Zephyr Cloud Assurance Seal › Regions"].last_updated == "2026-10-01"
    assert sections["Quasar Data Mark"].last_updated == "2025-02-03"
    assert "Last updated" not in sections["Zephyr Cloud Assurance Seal"].text


def test_text_without_headings_is_one_section_named_by_front_matter(tmp_path, catalog):
    path = write(tmp_path, "note.txt", "---\ntitle: Nimbus Privacy Mark\nupdated: 2025-04-01\n"
                                       "author: someone\n---\nExample Cloud holds the Nimbus Privacy Mark.\n\n"
                                       "It covers the Dublin region.\n")
    (section,) = parse_file(path, catalog)
    assert section.path == ("Nimbus Privacy Mark",) and section.last_updated == "2025-04-01"
    assert section.text == "Example Cloud holds the Nimbus Privacy Mark.\n\nIt covers the Dublin region."
    assert certification_of(section, catalog).name == "Nimbus Privacy Mark"
