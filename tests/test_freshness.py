"""Freshness, index side: which dates are read (documents, front matter, data/), the one stale
check with a fixed "today", and the catalogue computed from the index (index/listing.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from freshness_corpus import (
    ATLAS_NUMBER,
    FALCON_NUMBER,
    HERON_SCOPE,
    KESTREL_NUMBER,
    OSPREY_NUMBER,
    falcon_certificate,
    write_corpus,
)

from index import listing
from index.catalog import Catalog, load_catalog
from index.config import Paths
from index.errors import DataError
from index.freshness import (
    DEFAULT_STALE_DAYS,
    EXPIRED,
    OLD,
    REVIEW_DUE,
    Freshness,
    concerns,
    parse_stale_days,
    warning_for,
)
from index.ingest import REVIEW_BY_CUE_RE, VALID_UNTIL_CUE_RE, parse_file, stated_date
from index.readers import Block
from index.search import Engine

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 25)


# --- the one decision, with a fixed today -------------------------------------------------------


def test_last_updated_more_than_stale_days_ago_is_old_and_says_so_in_the_issues_words():
    assert concerns("2018-06-22", None, None, today=TODAY, stale_days=730)[0].kind == OLD
    assert warning_for(concerns("2018-06-22", None, None, today=TODAY, stale_days=730)) == \
        "last updated 2018-06-22 — confirm with compliance before quoting"


def test_exactly_stale_days_old_is_still_fresh_one_more_day_is_not():
    edge = (TODAY - dt.timedelta(days=730)).isoformat()
    past = (TODAY - dt.timedelta(days=731)).isoformat()
    assert concerns(edge, None, None, today=TODAY, stale_days=730) == ()
    (old,) = concerns(past, None, None, today=TODAY, stale_days=730)
    assert (old.kind, old.days) == (OLD, 731)
    # The setting, not a constant, decides.
    assert concerns(past, None, None, today=TODAY, stale_days=1000) == ()


def test_a_passed_valid_until_is_expired_the_last_day_is_still_valid():
    assert concerns(None, TODAY.isoformat(), None, today=TODAY, stale_days=730) == ()
    found = concerns(None, "2024-03-01", None, today=TODAY, stale_days=730)
    assert [c.kind for c in found] == [EXPIRED]
    assert warning_for(found) == "valid until 2024-03-01 — expired; confirm with compliance before quoting"


def test_old_and_expired_are_both_said_expired_first():
    found = concerns("2018-06-22", "2024-03-01", None, today=TODAY, stale_days=730)
    assert [c.kind for c in found] == [EXPIRED, OLD]
    assert warning_for(found) == ("valid until 2024-03-01 — expired; last updated 2018-06-22 — "
                                  "confirm with compliance before quoting")


def test_a_due_review_is_a_concern_for_the_report_but_no_warning_in_answers():
    found = concerns(TODAY.isoformat(), None, TODAY.isoformat(), today=TODAY, stale_days=730)
    assert [(c.kind, c.days) for c in found] == [(REVIEW_DUE, 0)]
    assert warning_for(found) is None
    assert concerns(None, None, "2027-01-01", today=TODAY, stale_days=730) == ()


def test_fresh_undated_and_future_dates_raise_nothing():
    assert concerns("2026-01-01", "2030-01-01", "2027-06-01", today=TODAY, stale_days=730) == ()
    assert concerns(None, None, None, today=TODAY, stale_days=730) == ()
    assert Freshness(TODAY).warning(listing.CertificationEntry("X", None, None, None, None, (), 1)) is None


def test_stale_days_setting_is_parsed_with_errors_naming_the_variable():
    assert parse_stale_days(None) == parse_stale_days("  ") == DEFAULT_STALE_DAYS == 730
    assert parse_stale_days(" 90 ") == 90
    for bad in ("two years", "1.5", "0", "-3"):
        with pytest.raises(ValueError, match="CERTDESK_STALE_DAYS"):
            parse_stale_days(bad)


# --- dates the documents state ------------------------------------------------------------------


@pytest.mark.parametrize("text, date", [
    ("Valid until: 1 March 2024", "2024-03-01"),
    ("This certificate is valid until March 1, 2024.", "2024-03-01"),
    ("Expiry date 2025-06-30", "2025-06-30"),
    ("Date of expiry: 30/06/2025", None),            # day-first is ambiguous: not read
    ("Expires: 2027-02-28", "2027-02-28"),
    ("The certificate expires on 28 February 2027.", "2027-02-28"),
    ("It remains valid through 06/24/2026 for all sites.", "2026-06-24"),
    ("Expiration Date: Jan 5 2026", "2026-01-05"),
    ("Valid until withdrawn; issued 2020-01-01.", None),     # the date must follow the cue
    ("Valid to all customers since 2020-01-01.", None),
])
def test_validity_statements_in_text(text, date):
    assert stated_date([Block("text", text)], VALID_UNTIL_CUE_RE) == date


def test_validity_in_a_table_row_and_a_line_broken_by_a_pdf():
    row = Block("row", "Valid until · 2025-03-01", cells=("Valid until", "2025-03-01"))
    assert stated_date([row], VALID_UNTIL_CUE_RE) == "2025-03-01"
    broken = Block("text", "This certificate is valid until 1 March\n2025, subject to audits.")
    assert stated_date([broken], VALID_UNTIL_CUE_RE) == "2025-03-01"


@pytest.mark.parametrize("text, date", [
    ("Next review: 2025-01-15", "2025-01-15"),
    ("To be reviewed by 1 July 2025.", "2025-07-01"),
    ("Review due date: 2025-02-01", "2025-02-01"),
    ("Review date: 2023-01-01", None),            # may be the last review, not the next one
    ("Reviewed by the compliance team on 2023-01-01", None),
])
def test_review_statements_in_text(text, date):
    assert stated_date([Block("text", text)], REVIEW_BY_CUE_RE) == date


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(ROOT / "data")


def test_front_matter_validity_keys_and_expiry_date_is_not_a_last_updated_date(tmp_path, catalog):
    page = tmp_path / "page.md"
    page.write_text("---\ntitle: Acme Seal\nexpiry_date: 2025-09-30\nnext_review: 2025-06-01\n---\n\n"
                    "# Acme Seal\n\nAcme holds the seal.\n", encoding="utf-8")
    (section,) = parse_file(page, catalog)
    assert (section.valid_until, section.review_by) == ("2025-09-30", "2025-06-01")
    assert (section.valid_until_from, section.review_by_from) == ("page.md", "page.md")
    assert section.last_updated is None       # "expiry_date" ends in "_date" but dates nothing


def test_a_front_matter_validity_that_is_no_date_is_reported_and_ignored(tmp_path, catalog, caplog):
    page = tmp_path / "page.md"
    page.write_text("---\ntitle: Acme Seal\nvalid_until: until further notice\n---\n\n# Acme Seal\n\n"
                    "Acme holds the seal.\n", encoding="utf-8")
    (section,) = parse_file(page, catalog)
    assert section.valid_until is None
    assert "valid_until 'until further notice' is not a date" in caplog.text


def test_html_meta_expires_is_about_caching_not_a_certificate(tmp_path, catalog):
    page = tmp_path / "page.html"
    page.write_text('<html><head><title>Acme Seal</title>'
                    '<meta http-equiv="expires" content="Tue, 01 Jan 2019 00:00:00 GMT">'
                    '<meta name="expires" content="2019-01-01"></head>'
                    '<body><main><h1>Acme Seal</h1><p>Acme holds the seal.</p></main></body></html>',
                    encoding="utf-8")
    (section,) = parse_file(page, catalog)
    assert section.valid_until is None


def test_a_statement_dates_its_own_certification_on_a_page_of_several(tmp_path, catalog):
    page = tmp_path / "recognition.txt"
    page.write_text("Acme Seal\n\nLast updated : 2024-01-02 10:00:00\n\nAcme holds the Acme Seal.\n\n"
                    "Valid until: 2025-01-31\n\n"
                    "Birch Mark\n\nLast updated : 2024-02-03 10:00:00\n\nAcme holds the Birch Mark.\n",
                    encoding="utf-8")
    sections = {s.title: s for s in parse_file(page, catalog)}
    assert sections["Acme Seal"].valid_until == "2025-01-31"
    assert sections["Birch Mark"].valid_until is None


def test_a_certificate_pdf_dates_its_scope_and_annex_with_its_valid_until(tmp_path, catalog):
    sections = parse_file(falcon_certificate(tmp_path / "falcon.pdf"), catalog)
    assert [s.title for s in sections] == ["Falcon Trust Certificate", "Scope", "Annex"]
    assert {s.valid_until for s in sections} == {"2024-03-01"}
    assert {s.last_updated for s in sections} == {"2023-03-01"}     # "Issued:" dates the document


def test_documents_yaml_dates_a_file_over_what_it_says(tmp_path):
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    seeds.mkdir(), data.mkdir()
    (seeds / "seal.md").write_text("---\ntitle: Acme Seal\nvalid_until: 2030-01-01\n---\n\n# Acme Seal\n\n"
                                   "Acme holds the seal.\n", encoding="utf-8")
    (data / "documents.yaml").write_text("documents:\n  seal.md:\n    valid_until: 2024-05-31\n"
                                         "    review_by: 2024-04-30\n", encoding="utf-8")
    (section,) = parse_file(seeds / "seal.md", load_catalog(data), seeds)
    assert (section.valid_until, section.valid_until_from) == ("2024-05-31", "data/documents.yaml")
    assert (section.review_by, section.review_by_from) == ("2024-04-30", "data/documents.yaml")


# --- curated data is validated ------------------------------------------------------------------


def certifications_file(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "certifications.yaml").write_text(
        "certifications:\n  - name: TISAX\n    titles: [TISAX]\n" + extra, encoding="utf-8")
    return tmp_path


def test_curated_scope_and_dates_load(tmp_path):
    d = certifications_file(tmp_path, "    scope: Automotive suppliers' information security\n"
                                      "    valid_until: 2027-06-30\n    review_by: '2026-12-01'\n")
    (tisax,) = load_catalog(d).certifications
    assert (tisax.scope, tisax.valid_until, tisax.review_by) == (
        "Automotive suppliers' information security", "2027-06-30", "2026-12-01")


@pytest.mark.parametrize("value", ["soon", "March 2027", "2027-6-30", "30/06/2027", "2027-02-30", "2027-13-01",
                                   "'2027-02-30'", "[2027-06-30]"])
def test_a_bad_curated_date_is_a_data_error_naming_file_and_line(tmp_path, value):
    d = certifications_file(tmp_path, f"    topics: [cars]\n    valid_until: {value}\n")
    with pytest.raises(DataError) as err:
        load_catalog(d)
    message = str(err.value)
    assert "certifications.yaml:5" in message and "valid_until" in message, message


def test_a_bad_review_date_in_documents_yaml_names_file_and_line(tmp_path):
    (tmp_path / "documents.yaml").write_text("documents:\n  a.md:\n    review_by: next year\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"documents.yaml:3: .*review_by must be a date written YYYY-MM-DD"):
        load_catalog(tmp_path)


# --- the index and the catalogue ----------------------------------------------------------------


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Paths:
    return write_corpus(tmp_path_factory.mktemp("fresh-corpus"))


@pytest.fixture(scope="module")
def company_engine(company: Paths) -> Engine:
    eng = Engine.open(company)
    yield eng
    eng.close()


def test_results_carry_their_dates_and_the_json_contract_is_unchanged(company_engine: Engine):
    answer = company_engine.ask("Atlas Cloud Assurance certificate number")
    top = answer.results[0]
    assert (top.valid_until, top.review_by) == ("2024-03-01", None)
    assert set(top.to_dict()) == {"certification", "title", "passage", "certificate_numbers",
                                  "last_updated", "source", "score"}
    assert set(answer.to_dict()) == {"question", "answered", "results", "not_stated"}


def test_curated_dates_override_the_documents_and_say_where_they_come_from(company_engine: Engine):
    (kestrel,) = [r for r in company_engine.sections() if r.certification == "Kestrel Data Seal"]
    assert (kestrel.valid_until, kestrel.valid_until_from) == ("2023-12-31", "data/certifications.yaml")
    assert kestrel.last_updated == "2018-06-22"
    (heron,) = [r for r in company_engine.sections() if r.certification == "Heron Privacy Mark"]
    assert (heron.review_by, heron.review_by_from, heron.scope) == ("2025-01-01", "data/certifications.yaml",
                                                                    HERON_SCOPE)


def test_catalogue_lists_every_certification_with_scope_and_newest_date(company_engine: Engine):
    entries = {e.name: e for e in listing.certifications(company_engine.sections())}
    assert list(entries) == ["Atlas Cloud Assurance (ACA)", "Falcon Trust Certificate", "Heron Privacy Mark",
                             "Kestrel Data Seal", "Osprey Security Seal"]
    assert entries["Heron Privacy Mark"].scope == HERON_SCOPE            # curated
    assert entries["Atlas Cloud Assurance (ACA)"].scope is None          # its title is its name
    assert entries["Falcon Trust Certificate"].sections == 3
    assert entries["Kestrel Data Seal"].valid_until == "2023-12-31"
    assert entries["Heron Privacy Mark"].review_by == "2025-01-01"
    assert [n for n, _ in company_engine.catalog()] == list(entries)     # the Home tab agrees


def test_the_seeds_catalogue_takes_scope_from_titles_and_the_newest_date(engine: Engine):
    entries = {e.name: e for e in listing.certifications(engine.sections())}
    assert len(entries) == 21 and entries["TISAX"].last_updated == "2024-06-24"
    assert entries["FISC"].scope == "The center for Financial Industry Information Systems (FISC)"
    assert entries["TISAX"].scope is None and entries["HIPAA"].scope is None   # the title is the name
    assert list(entries) == sorted(entries, key=lambda n: (n.casefold(), n))
    numbers = [(n.label, n.number) for n in listing.numbers(engine.sections())]
    assert ("Cloud Object Storage Services", "02016") in numbers and len(numbers) == 11


def test_numbers_are_listed_as_stated_and_internal_ones_only_internally(company_engine: Engine):
    everything = [(n.certification, n.number) for n in listing.numbers(company_engine.sections())]
    public = [(n.certification, n.number) for n in listing.numbers(company_engine.sections(audience="public"))]
    assert everything == [("Atlas Cloud Assurance (ACA)", ATLAS_NUMBER), ("Falcon Trust Certificate", FALCON_NUMBER),
                          ("Kestrel Data Seal", KESTREL_NUMBER), ("Osprey Security Seal", OSPREY_NUMBER)]
    assert public == everything[:3]
    public_names = {e.name for e in listing.certifications(company_engine.sections(audience="public"))}
    assert "Osprey Security Seal" not in public_names and "Kestrel Data Seal" in public_names
    labels = {n.number: n.label for n in listing.numbers(company_engine.sections())}
    assert labels[OSPREY_NUMBER] == "Osprey Seal"


def test_stale_lists_old_expired_and_review_due_with_the_file_stating_the_date(company_engine: Engine):
    items = listing.stale(company_engine.sections(), Freshness(TODAY))
    found = {(i.certification, i.title.split(" › ")[-1], i.concern.kind, i.stated_in) for i in items}
    assert ("Kestrel Data Seal", "Contoso and the Kestrel Data Seal", EXPIRED, "data/certifications.yaml") in found
    assert ("Kestrel Data Seal", "Contoso and the Kestrel Data Seal", OLD, "kestrel.md") in found
    assert ("Atlas Cloud Assurance (ACA)", "Contoso and ACA", EXPIRED, "atlas.md") in found
    assert ("Heron Privacy Mark", "Contoso and Heron", REVIEW_DUE, "data/certifications.yaml") in found
    assert ("Falcon Trust Certificate", "Annex", EXPIRED, "falcon-certificate.pdf") in found
    assert not any(i.certification == "Osprey Security Seal" for i in items)      # fresh
    assert not any(i.certification == "Atlas Cloud Assurance (ACA)" and i.concern.kind == OLD for i in items)
