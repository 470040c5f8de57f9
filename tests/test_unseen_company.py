"""A compliance team's own pages, for a company data/ has never heard of.

The curated vocabulary names Tencent; these pages are Contoso's. What the engine must still do:
read who the company is (and its products) from the pages, quote the sentence naming the
auditor rather than an "Audit reports" list, quote a list with the sentence that introduces
it, and quote this year's page before last year's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.build import build_index
from index.catalog import load_catalog
from index.config import Paths
from index.ingest import load_sections
from index.naming import certification_of, company_names
from index.search import Engine

ROOT = Path(__file__).resolve().parent.parent

PAGES = {
    "contoso-atlas.md": """---
title: Atlas Cloud Assurance (ACA)
---

# Atlas Cloud Assurance (ACA)

## ACA overview

The Atlas Cloud Assurance scheme has three levels. Providers are certified at Level 1, 2 or 3
depending on the controls they implement. Audits are performed by accredited bodies.

## Contoso and ACA

Contoso Vault and Contoso Relay were granted ACA at Level 2. Northwind Assurance, an independent
auditor, performed the assessment of Contoso Vault.

The ACA certificate applies to Contoso Vault provisioned in the following regions:

- Lisbon North
- Oslo East

## Audits, reports, and certificates

- Contoso Vault ACA audit report
- Contoso Relay ACA audit report
""",
    "contoso-kestrel.md": """---
title: Kestrel Data Seal
---

# Kestrel Data Seal

## Contoso and the Kestrel Data Seal

Contoso Vault has obtained the Kestrel Data Seal. Contoso Relay is in scope as well.
""",
    "contoso-heron.md": """---
title: Heron Privacy Mark
---

# Heron Privacy Mark

## Contoso and Heron

Contoso Relay achieved the Heron Privacy Mark, and Contoso Vault maintains it too.
""",
}


@pytest.fixture(scope="module")
def contoso(tmp_path_factory) -> Paths:
    root = tmp_path_factory.mktemp("contoso")
    seeds = root / "seeds"
    seeds.mkdir()
    for name, text in PAGES.items():
        (seeds / name).write_text(text, encoding="utf-8")
    data = root / "data"
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("eval"))
    paths = Paths(seeds_dir=seeds, data_dir=data, index_dir=root / "index")
    build_index(paths)
    return paths


@pytest.fixture(scope="module")
def engine(contoso: Paths) -> Engine:
    eng = Engine.open(contoso)
    yield eng
    eng.close()


def _ask_over(tmp_path: Path, pages: dict[str, str], question: str):
    """Build an index over Contoso's two holding pages plus `pages`, and ask one question."""
    seeds = tmp_path / "seeds"
    seeds.mkdir(parents=True)
    for name in ("contoso-kestrel.md", "contoso-heron.md"):
        (seeds / name).write_text(PAGES[name], encoding="utf-8")
    for name, text in pages.items():
        (seeds / name).write_text(text, encoding="utf-8")
    paths = Paths(seeds_dir=seeds, data_dir=ROOT / "data", index_dir=tmp_path / "index")
    build_index(paths)
    engine = Engine.open(paths)
    try:
        return engine.ask(question)
    finally:
        engine.close()


def test_the_company_and_its_products_are_read_from_the_pages(contoso: Paths):
    catalog = load_catalog(contoso.data_dir)
    sections, _ = load_sections(contoso.seeds_dir, catalog)
    certs = list({c.key: c for c in (certification_of(s, catalog) for s in sections)}.values())
    holds = next(a.evidence for a in catalog.vocabulary.asks if a.name == "holds")
    names = company_names(sections, certs, holds)
    assert "Contoso" in names and "Vault" in names and "Relay" in names
    # A certification's own names and the auditor are not the company.
    assert not {"ACA", "Atlas", "Kestrel", "Heron", "Northwind"} & set(names)


def test_our_level_is_quoted_not_the_schemes_levels(engine: Engine):
    answer = engine.ask("aca level?")
    assert "granted ACA at Level 2" in answer.results[0].passage
    assert "level" not in answer.not_stated


def test_do_we_have_it_is_answered_where_the_company_holds_it(tmp_path: Path):
    # The overview names the scheme more often and says providers "are certified" (the
    # scheme's words); the section naming Contoso says what Contoso holds, and answers.
    pages = {
        "contoso-osprey.md": """---
title: Osprey Cloud Standard (OCS)
---

# Osprey Cloud Standard (OCS)

## OCS overview

The Osprey Cloud Standard (OCS) was prepared by the Osprey Standards Committee. OCS gives
buyers a common OCS baseline, and OCS certified providers can state which OCS tier they offer.

## Contoso and OCS

After rigorous assessments by the certification body over several months, Contoso Vault
received OCS certification across all three service classifications. Contoso was the first
provider to do so, and the assessment covered every region it operates.
""",
    }
    answer = _ask_over(tmp_path, pages, "do we have ocs?")
    assert answer.results[0].title.endswith("Contoso and OCS")
    assert "Contoso Vault received OCS certification" in answer.results[0].passage


def test_the_auditor_sentence_beats_a_heading_with_the_word_audit(engine: Engine):
    answer = engine.ask("ACA who audited us")
    assert "Northwind Assurance, an independent auditor" in answer.results[0].passage
    assert answer.not_stated == ()


def test_a_cue_typed_with_a_typo_still_asks_for_its_fact(engine: Engine):
    answer = engine.ask("aca audtor?")
    assert "Northwind Assurance, an independent auditor" in answer.results[0].passage


def test_a_list_is_quoted_with_the_sentence_introducing_it(engine: Engine):
    answer = engine.ask("aca - which regions?")
    passage = answer.results[0].passage
    assert "in the following regions: Lisbon North · Oslo East" in passage
    assert "regions" not in answer.not_stated


def test_this_years_page_is_quoted_before_last_years(tmp_path: Path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    page = ("---\ntitle: Kestrel Data Seal\nlast_updated: {date}\n---\n\n# Kestrel Data Seal\n\n"
            "Contoso Vault is certified under the Kestrel Data Seal (Certificate #{number}).\n")
    (seeds / "kestrel-2019.md").write_text(page.format(date="2019-03-01", number="1111"), encoding="utf-8")
    (seeds / "kestrel-2026.md").write_text(page.format(date="2026-03-01", number="2222"), encoding="utf-8")
    paths = Paths(seeds_dir=seeds, data_dir=ROOT / "data", index_dir=tmp_path / "index")
    build_index(paths)
    engine = Engine.open(paths)
    try:
        answer = engine.ask("kestrel certificate number?")
    finally:
        engine.close()
    assert answer.results[0].certificate_numbers[0].number == "2222"
    assert answer.results[0].last_updated == "2026-03-01"


def test_a_level_stated_right_after_the_company_is_named_is_ours(tmp_path: Path):
    # "Both services comply at the high level" goes on about the services the sentence
    # before names; the overview's "intermediate or high level" describes the scheme.
    pages = {
        "contoso-wren.md": """---
title: Wren Security Framework (WSF)
---

# Wren Security Framework (WSF)

## WSF overview

The framework is mandatory for systems handling information at an intermediate or high level
of sensitivity.

## Contoso and WSF

Contoso Vault and Contoso Relay have gone through a rigorous assessment by Northwind Assurance,
an independent auditor. Northwind reports that both services comply at the high level with the
framework.
""",
    }
    answer = _ask_over(tmp_path, pages, "wsf - which level?")
    assert "comply at the high level" in answer.results[0].passage
    assert "level" not in answer.not_stated


def test_a_product_page_stating_the_certification_answers_for_that_product(tmp_path: Path):
    # "Is KLS OCS High?": no section of the OCS page says anything about KLS; the page of
    # the Key Ledger Service lists OCS High, and answers.
    pages = {
        "contoso-osprey.md": """---
title: Osprey Cloud Standard (OCS)
---

# Osprey Cloud Standard (OCS)

## OCS overview

The Osprey Cloud Standard (OCS) has a Moderate and a High baseline. OCS High applies to the
most sensitive unclassified data, and OCS Moderate to most other data.

## Contoso and OCS

Contoso Vault and Contoso Relay received an OCS High authorization from the Osprey board.
""",
        "contoso-ledger.md": """---
title: Compliance validation for Contoso Key Ledger Service
---

# Compliance validation for Contoso Key Ledger Service

The following compliance documents cover Contoso KLS. To view them, use the portal.

- Kestrel Data Seal certificate
- OCS High authorization letter
""",
    }
    answer = _ask_over(tmp_path, pages, "is kls ocs high?")
    assert answer.results[0].title == "Compliance validation for Contoso Key Ledger Service"
    assert "OCS High authorization letter" in answer.results[0].passage


LARK = """---
title: Lark Banking Audit
---

# Lark Banking Audit

## About the Lark audit

Lark's banking regulators have issued 12 regulations for outsourcing to the cloud. Contoso Vault
completed the Lark audit, performed by an independent third-party audit agency. This independent
audit report shows that Contoso Vault meets the regulations of Lark's banking regulators.

Customers can request the audit report from their account manager. The audit approach follows
the ISAE3000 guidelines issued by the IAASB.
"""


def test_the_standard_an_audit_follows_is_quoted_when_asked(tmp_path: Path):
    answer = _ask_over(tmp_path, {"contoso-lark.md": LARK}, "lark audit: which audit standard?")
    assert "follows the ISAE3000 guidelines" in answer.results[0].passage


def test_how_to_get_a_report_is_quoted_when_asked(tmp_path: Path):
    answer = _ask_over(tmp_path, {"contoso-lark.md": LARK}, "can we share the lark audit report with a bank?")
    assert "Customers can request the audit report from their account manager" in answer.results[0].passage



def test_identifiers_no_word_spells_find_their_section(tmp_path: Path):
    # "Impact Level 5" is il5 and "Relay Gateway 2400" rg2400 to a rep; neither is written.
    page = """---
title: Osprey Government Authorization
---

# Osprey Government Authorization

## Osprey overview

The Osprey board authorizes cloud services for government data at several impact levels.

## Impact Level 5

Government data of the highest sensitivity below classified, and national security systems,
need the fifth level of the Osprey scheme.

The Osprey board granted the Relay Gateway 2400 of Contoso an Impact Level 5 authorization.
"""
    answer = _ask_over(tmp_path, {"contoso-osprey-gov.md": page}, "il5 rg2400?")
    assert answer.answered
    assert answer.results[0].passage.startswith(
        "The Osprey board granted the Relay Gateway 2400 of Contoso an Impact Level 5 authorization")


def test_grades_offered_in_a_question_are_what_it_asks_not_its_subject(tmp_path: Path):
    # "basic, medium or high?" asks which grade we hold: "medium", a word these pages never
    # use, does not count against answering, and the section stating our grade answers.
    page = """---
title: Plover Security Scheme (PSS)
---

# Plover Security Scheme (PSS)

## PSS overview

PSS has a basic grade for basic systems, with basic controls and basic reporting, and a high
grade for systems that handle sensitive data.

## Contoso and PSS

Contoso Vault and Contoso Relay were assessed by Northwind Assurance, an independent auditor.
Northwind reports that both services comply at the high grade.
"""
    answer = _ask_over(tmp_path, {"contoso-plover.md": page}, "pss - basic, medium or high?")
    assert answer.answered
    assert "comply at the high grade" in answer.results[0].passage


def test_a_standard_typed_in_lower_case_is_not_answered_from_another(tmp_path: Path):
    # "iso 22301" typed in lower case is ISO 22301, which no page covers: the ISO 27001 page,
    # which speaks of business continuity, does not answer it.
    page = """---
title: ISO/IEC 27001 at Contoso
---

# ISO/IEC 27001 at Contoso

## ISO/IEC 27001 overview

ISO/IEC 27001 covers information security, including business continuity management, and
Contoso Vault holds an ISO/IEC 27001 certificate.
"""
    answer = _ask_over(tmp_path, {"contoso-iso27001.md": page}, "iso 22301 business continuity cert?")
    assert not answer.answered
    assert _ask_over(tmp_path / "control", {"contoso-iso27001.md": page}, "iso 27001 cert?").answered


def test_security_shorthand_finds_the_words_the_pages_use(tmp_path: Path):
    page = """---
title: Contoso security practices
---

# Contoso security practices

## Testing

An outside firm performs penetration testing of Contoso Vault at least once per year.

## Reporting a vulnerability

We respond to every vulnerability report within 3 business days.
"""
    pages = {"contoso-security.md": page}
    assert "at least once per year" in _ask_over(tmp_path / "a", pages, "how often is vault pen tested?").results[0].passage
    assert "within 3 business days" in _ask_over(tmp_path / "b", pages, "vuln report - how quickly do we respond?").results[0].passage


def test_a_files_name_says_whose_page_it_is(tmp_path: Path):
    # Two companies' pages mention SOC 2; the question names Acme, whose page title does not.
    acme = """---
title: Security
---

# Security

## Certifications

Our SOC2 Type II report is audited every year by Northwind Assurance. Our platform is tested
for vulnerabilities every quarter.
"""
    globex = """---
title: SOC 2 Compliance and Globex
---

# SOC 2 Compliance and Globex

Globex has obtained SOC 2 Type 2 certification, and its SOC 2 report is available to
customers on the Team plan.
"""
    answer = _ask_over(tmp_path, {"acme-security.md": acme, "globex-soc-2.md": globex},
                       "acme soc 2 - who audits it?")
    assert answer.results[0].source == "acme-security.md"
    assert "audited every year by Northwind Assurance" in answer.results[0].passage


def test_a_hyphenated_level_is_an_adjective_not_a_question_about_levels(engine: Engine):
    answer = engine.ask("aca - tenant-level separation of vault?")
    assert "level" not in answer.not_stated
    assert engine.plan("aca - which level for vault?").asks == ["level"]
    assert "level" not in engine.plan("aca - tenant-level separation of vault?").asks


def test_a_name_written_without_its_space_is_still_mentioned(tmp_path: Path):
    # "SOC 2" typed, "SOC2" written: Acme's page states the standard the question names.
    acme = """---
title: Security
---

# Security

## Certifications

Acme holds a SOC2 Type II report, audited every year by Northwind Assurance.
"""
    globex = """---
title: SOC 2 Compliance and Globex
---

# SOC 2 Compliance and Globex

Globex has obtained SOC 2 Type 2 certification, and its SOC 2 report is available to
customers on the Team plan.
"""
    answer = _ask_over(tmp_path, {"security.md": acme, "soc-2.md": globex}, "acme soc 2 auditor?")
    assert answer.results[0].source == "security.md"
