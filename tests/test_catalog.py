"""Curated data is validated strictly: a typo must stop the build with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.catalog import load_catalog
from index.errors import DataError

ROOT = Path(__file__).resolve().parent.parent


def data_dir(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_the_shipped_data_loads():
    catalog = load_catalog(ROOT / "data")
    trucs = catalog.certification("Trusted Cloud Services (TRUCS)")
    assert trucs and "可信云" in trucs.names and "TRUCS" in trucs.names
    assert any("COS" in p.names for p in catalog.products)


def test_unknown_key_names_file_line_and_known_keys(tmp_path):
    d = data_dir(tmp_path, "certifications.yaml", "certifications:\n  - name: X\n    aliases: [Y]\n")
    with pytest.raises(DataError) as err:
        load_catalog(d)
    message = str(err.value)
    assert "certifications.yaml:3" in message and "'aliases'" in message and "names" in message


def test_invalid_yaml_names_file_and_line(tmp_path):
    d = data_dir(tmp_path, "products.yaml", "products:\n  - name: COS\n    names: [COS, object storage\n")
    with pytest.raises(DataError) as err:
        load_catalog(d)
    assert "products.yaml:" in str(err.value) and "invalid YAML" in str(err.value)


def test_yaml_booleans_are_not_words(tmp_path):
    d = data_dir(tmp_path, "vocabulary.yaml", "stopwords: [a, no, the]\n")
    with pytest.raises(DataError, match="must be text, not bool"):
        load_catalog(d)


def test_duplicate_certification_is_refused(tmp_path):
    d = data_dir(tmp_path, "certifications.yaml", "certifications:\n  - name: X\n  - name: x\n")
    with pytest.raises(DataError, match="listed twice"):
        load_catalog(d)


def test_missing_name_is_refused(tmp_path):
    d = data_dir(tmp_path, "certifications.yaml", "certifications:\n  - names: [X]\n")
    with pytest.raises(DataError, match="needs 'name'"):
        load_catalog(d)


def test_bad_boilerplate_pattern_is_refused(tmp_path):
    d = data_dir(tmp_path, "vocabulary.yaml", "boilerplate:\n  paragraphs: ['([']\n")
    with pytest.raises(DataError, match="regular expression"):
        load_catalog(d)


def test_document_naming_unknown_certification_is_refused(tmp_path):
    data_dir(tmp_path, "certifications.yaml", "certifications:\n  - name: A\n")
    d = data_dir(tmp_path, "documents.yaml", "documents:\n  x.txt:\n    certification: B\n")
    with pytest.raises(DataError, match="which certifications.yaml does not list"):
        load_catalog(d)


def test_missing_files_mean_nothing_curated(tmp_path):
    catalog = load_catalog(tmp_path)
    assert catalog.certifications == () and catalog.products == ()


def test_missing_directory_says_which_variable(tmp_path):
    with pytest.raises(DataError, match="CERTDESK_DATA_DIR"):
        load_catalog(tmp_path / "nope")


def test_an_unclosed_bracket_is_reported_where_it_opened(tmp_path):
    (tmp_path / "products.yaml").write_text(
        "products:\n  - name: COS\n    names: [COS, object storage\n  - name: CVM\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_catalog(tmp_path)
    assert err.value.line == 3 and "not closed" in str(err.value) and "line 4" in str(err.value)


def test_an_empty_certifications_file_is_named_as_the_problem(tmp_path):
    (tmp_path / "certifications.yaml").write_text("", encoding="utf-8")
    (tmp_path / "documents.yaml").write_text(
        "documents:\n  a.txt:\n    certification: TISAX\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_catalog(tmp_path)
    assert err.value.path.endswith("certifications.yaml") and "lists no certifications" in str(err.value)
