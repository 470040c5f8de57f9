"""certdesk ask's freshness warnings, certdesk list / numbers and certdesk report stale, run as
a user runs them (`bot.cli.main`, the CERTDESK_* variables set) over the seeds and over a
company corpus whose documents are fresh, old, expired, due for review or internal."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from freshness_corpus import ATLAS_NUMBER, HERON_SCOPE, KESTREL_NUMBER, OSPREY_NUMBER, write_corpus

from bot.cli import main
from index.config import Paths

ROOT = Path(__file__).resolve().parent.parent
OLD_PCI = "⚠ last updated 2018-06-22 — confirm with compliance before quoting"


def run(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(args, out=out, stdin=io.StringIO("")), out.getvalue()


@pytest.fixture(scope="module")
def company_paths(tmp_path_factory) -> Paths:
    return write_corpus(tmp_path_factory.mktemp("cli-fresh"))


@pytest.fixture()
def company(monkeypatch, company_paths: Paths) -> Paths:
    monkeypatch.delenv("CERTDESK_STALE_DAYS", raising=False)
    monkeypatch.setenv("CERTDESK_SEEDS_DIR", str(company_paths.seeds_dir))
    monkeypatch.setenv("CERTDESK_DATA_DIR", str(company_paths.data_dir))
    monkeypatch.setenv("CERTDESK_INDEX_DIR", str(company_paths.index_dir))
    return company_paths


@pytest.fixture()
def seeds(monkeypatch, env_paths: Paths) -> Paths:
    monkeypatch.delenv("CERTDESK_STALE_DAYS", raising=False)
    return env_paths


# --- ask ----------------------------------------------------------------------------------------


def test_ask_warns_right_under_the_heading_of_an_old_source(seeds):
    code, out = run(["ask", "Are we PCI DSS level 1?"])
    assert code == 0
    lines = out.splitlines()
    heading = next(i for i, line in enumerate(lines) if line.startswith("1. PCI DSS"))
    assert lines[heading + 1] == "   " + OLD_PCI


def test_ask_does_not_warn_within_the_stale_days_setting(seeds, monkeypatch):
    monkeypatch.setenv("CERTDESK_STALE_DAYS", "100000")
    code, out = run(["ask", "Are we PCI DSS level 1?"])
    assert code == 0 and "PCI DSS Grade 1" in out
    assert "⚠" not in out and "confirm with compliance" not in out


def test_ask_warns_of_an_expired_certificate_and_not_of_a_fresh_page(company):
    code, out = run(["ask", "Atlas Cloud Assurance certificate number"])
    assert code == 0 and ATLAS_NUMBER in out
    assert "   ⚠ valid until 2024-03-01 — expired; confirm with compliance before quoting" in out.splitlines()
    code, out = run(["ask", "Heron Privacy Mark"])
    assert code == 0 and "Heron Privacy Mark" in out and "⚠" not in out   # a review due is not an answer's warning


def test_ask_json_keeps_its_keys_and_adds_no_warning(seeds):
    code, out = run(["ask", "--json", "Are we PCI DSS level 1?"])
    data = json.loads(out)
    assert code == 0 and set(data) == {"question", "answered", "results", "not_stated"}
    assert set(data["results"][0]) == {"certification", "title", "passage", "certificate_numbers",
                                       "last_updated", "source", "score"}
    assert "confirm with compliance" not in out


@pytest.mark.parametrize("command", [["ask", "Are we PCI DSS level 1?"], ["list"], ["numbers"], ["report", "stale"]])
@pytest.mark.parametrize("value", ["two years", "0"])
def test_a_bad_stale_days_setting_is_one_line_naming_it(seeds, monkeypatch, capsys, command, value):
    monkeypatch.setenv("CERTDESK_STALE_DAYS", value)
    code, out = run(command)
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert "CERTDESK_STALE_DAYS must be" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# --- list and numbers ---------------------------------------------------------------------------


def test_list_shows_every_certification_with_scope_dates_and_warnings(company):
    code, out = run(["list"])
    assert code == 0
    blocks = out.split("\n\n", 1)[1].split("\n")
    assert blocks[0] == "Atlas Cloud Assurance (ACA)"
    assert "   ⚠ valid until 2024-03-01 — expired; confirm with compliance before quoting" in blocks
    heron = blocks.index(f"Heron Privacy Mark — {HERON_SCOPE}")
    assert blocks[heron + 1].startswith("   last updated ") and "review by 2025-01-01 · heron.md" in blocks[heron + 1]
    assert not blocks[heron + 2].startswith("   ⚠")                 # fresh: no warning
    kestrel = blocks.index("Kestrel Data Seal")
    assert blocks[kestrel + 2] == ("   ⚠ valid until 2023-12-31 — expired; last updated 2018-06-22 — confirm "
                                   "with compliance before quoting")
    assert "Osprey Security Seal" in blocks                             # internal: listed on the CLI


def test_list_public_and_json(company):
    code, out = run(["list", "--public", "--json"])
    data = json.loads(out)
    assert code == 0 and set(data) == {"today", "stale_days", "certifications"}
    assert data["stale_days"] == 730
    names = [c["name"] for c in data["certifications"]]
    assert names == ["Atlas Cloud Assurance (ACA)", "Falcon Trust Certificate", "Heron Privacy Mark",
                     "Kestrel Data Seal"]                              # no internal Osprey
    heron = data["certifications"][2]
    assert heron == {"name": "Heron Privacy Mark", "scope": HERON_SCOPE, "last_updated": heron["last_updated"],
                     "valid_until": None, "review_by": "2025-01-01", "sources": ["heron.md"], "warning": None}
    assert data["certifications"][0]["warning"].startswith("valid until 2024-03-01 — expired")


def test_numbers_lists_every_number_with_its_label_and_the_public_ones_with_public(company):
    code, out = run(["numbers"])
    assert code == 0
    assert f"Kestrel Data Seal — kestrel.md\n   Contoso and the Kestrel Data Seal — Registration No: {KESTREL_NUMBER}" in out
    assert f"Osprey Seal No: {OSPREY_NUMBER}" in out
    code, out = run(["numbers", "--public", "--json"])
    numbers = json.loads(out)["numbers"]
    assert code == 0 and OSPREY_NUMBER not in out
    assert {"certification": "Atlas Cloud Assurance (ACA)", "label": "Contoso and ACA — Certificate",
            "number": ATLAS_NUMBER, "source": "atlas.md"} in numbers


def test_numbers_on_the_seeds(seeds):
    code, out = run(["numbers"])
    assert code == 0 and out.startswith("11 certificate numbers")
    assert "   Cloud Object Storage Services No: 02016" in out.splitlines()


# --- report stale ---------------------------------------------------------------------------------


def test_report_stale_lists_each_reason_with_its_file(company):
    code, out = run(["report", "stale"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Needs review: ") and "CERTDESK_STALE_DAYS=730" in lines[0]
    kestrel = lines.index("Kestrel Data Seal")
    assert lines[kestrel + 1].startswith("   valid until 2023-12-31 — expired ")
    assert lines[kestrel + 1].endswith(": Kestrel Data Seal › Contoso and the Kestrel Data Seal · kestrel.md "
                                       "(date from data/certifications.yaml)")
    assert lines[kestrel + 2].startswith("   last updated 2018-06-22 (") and lines[kestrel + 2].endswith("· kestrel.md")
    heron = lines.index("Heron Privacy Mark")
    assert lines[heron + 1].startswith("   review due 2025-01-01 (")
    assert "Osprey Security Seal" not in out                          # fresh, nothing due


def test_report_stale_json_and_the_stale_days_setting(company, monkeypatch):
    monkeypatch.setenv("CERTDESK_STALE_DAYS", "100000")
    code, out = run(["report", "stale", "--json"])
    data = json.loads(out)
    assert code == 0 and data["stale_days"] == 100000
    kinds = {(i["certification"], i["kind"]) for i in data["items"]}
    assert ("Kestrel Data Seal", "old") not in kinds                 # not old under this setting
    assert {("Kestrel Data Seal", "expired"), ("Heron Privacy Mark", "review due"),
            ("Atlas Cloud Assurance (ACA)", "expired")} <= kinds
    assert set(data["items"][0]) == {"certification", "title", "source", "kind", "date", "days", "reason",
                                     "stated_in"}


def test_report_stale_with_nothing_due_says_so(seeds, monkeypatch):
    monkeypatch.setenv("CERTDESK_STALE_DAYS", "100000")
    code, out = run(["report", "stale"])
    assert code == 0 and out.startswith("Nothing needs review ")


def test_report_days_still_reports_the_question_log(seeds, tmp_path, monkeypatch):
    monkeypatch.setenv("CERTDESK_DB", str(tmp_path / "none.sqlite3"))
    code, out = run(["report", "--days", "7"])
    assert code == 0 and out.startswith("No questions recorded yet")


def test_the_console_script_lists_without_a_traceback(company):
    done = subprocess.run([sys.executable, "-m", "bot", "list"], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "Kestrel Data Seal" in done.stdout and "confirm with compliance before quoting" in done.stdout
