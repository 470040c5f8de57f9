"""A small company corpus whose documents are fresh, old, expired, due for review, or internal.

Shared by the freshness and catalogue tests (index, CLI, Slack). Dates that must read as
fresh are written relative to the day the corpus is built, so the tests hold on any day;
the others are long past (2018, 2023, 2024).

  atlas.md              public, updated recently; its text says "Valid until: 1 March 2024"
  kestrel.md            public, front matter last_updated 2018-06-22; data/ says valid until
                        2023-12-31 (curated, over the document)
  heron.md              public, updated recently: fresh; data/ gives a scope and review_by
                        2025-01-01 (due: in the report, never in an answer)
  osprey.md             internal, updated recently, with certificate number OSP-9
  falcon-certificate.pdf  a certificate: "Valid until: 1 March 2024" in its first part, and a
                        Scope and an Annex part that the statement dates too
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from fpdf import FPDF

from index.build import build_index
from index.config import Paths

ROOT = Path(__file__).resolve().parent.parent

ATLAS_NUMBER = "ACA-2231"
KESTREL_NUMBER = "KDS-0042"
OSPREY_NUMBER = "OSP-9"
FALCON_NUMBER = "FT 552878"
HERON_SCOPE = "Privacy of customer data held in Contoso Relay"

CURATED = """
  - name: Heron Privacy Mark
    titles: [Heron Privacy Mark]
    names: [Heron Privacy Mark, HPM]
    scope: Privacy of customer data held in Contoso Relay
    review_by: 2025-01-01

  - name: Kestrel Data Seal
    titles: [Kestrel Data Seal]
    names: [Kestrel Data Seal, KDS]
    valid_until: 2023-12-31
"""


def pages(today: dt.date) -> dict[str, str]:
    recent = (today - dt.timedelta(days=30)).isoformat()
    return {
        "atlas.md": f"""---
title: Atlas Cloud Assurance (ACA)
last_updated: {recent}
---

# Atlas Cloud Assurance (ACA)

## Contoso and ACA

Contoso Vault was granted the Atlas Cloud Assurance certificate at Level 2.

Certificate No: {ATLAS_NUMBER}

Valid until: 1 March 2024
""",
        "kestrel.md": f"""---
title: Kestrel Data Seal
last_updated: 2018-06-22
---

# Kestrel Data Seal

## Contoso and the Kestrel Data Seal

Contoso Vault has obtained the Kestrel Data Seal for its storage service.

Registration No: {KESTREL_NUMBER}
""",
        "heron.md": f"""---
title: Heron Privacy Mark
last_updated: {recent}
---

# Heron Privacy Mark

## Contoso and Heron

Contoso Relay achieved the Heron Privacy Mark, and Contoso Vault maintains it too.
""",
        "osprey.md": f"""---
title: Osprey Security Seal
visibility: internal
last_updated: {recent}
---

# Osprey Security Seal

## Contoso and Osprey

Contoso Relay holds the Osprey Security Seal, audited by Northwind Assurance.

Osprey Seal No: {OSPREY_NUMBER}
""",
    }


def falcon_certificate(path: Path) -> Path:
    """A certificate as certification bodies print them: the validity line in its first part."""
    pdf = FPDF()
    pdf.set_title("Falcon Trust Certificate")
    pdf.set_creation_date(dt.datetime(2023, 3, 1, tzinfo=dt.timezone.utc))
    pdf.add_page()

    def put(text: str, size: float = 11, style: str = "", gap: float = 4) -> None:
        pdf.ln(gap)
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, size * 0.45, text, new_x="LMARGIN", new_y="NEXT")

    put("Falcon Trust Certificate", 20, "B", gap=0)
    put("This certifies that Contoso operates a Falcon Trust information security programme "
        "for Contoso Vault and Contoso Relay.")
    put(f"Certificate Number: {FALCON_NUMBER}\nIssued: 2023-03-01\nValid until: 1 March 2024")
    put("Scope", 15, "B")
    put("Hosting and support of Contoso Vault.")
    put("Annex", 15, "B")
    put("Sites: Lisbon, Oslo.")
    pdf.output(str(path))
    return path


def write_corpus(root: Path, today: dt.date | None = None) -> Paths:
    """The corpus and a copy of data/ (plus the curated entries above) under `root`, indexed."""
    seeds, data = root / "seeds", root / "data"
    seeds.mkdir(parents=True)
    for name, text in pages(today or dt.date.today()).items():
        (seeds / name).write_text(text, encoding="utf-8")
    falcon_certificate(seeds / "falcon-certificate.pdf")
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("eval"))
    with (data / "certifications.yaml").open("a", encoding="utf-8") as f:
        f.write(CURATED)
    paths = Paths(seeds_dir=seeds, data_dir=data, index_dir=root / "index")
    build_index(paths)
    return paths
