"""Every document format under the seeds, broken files among them, and the real-document corpus.

* A seeds directory with subfolders and every supported suffix is indexed; a file that cannot
  be read (a truncated PDF, random bytes saved as .html, an unknown extension) is skipped with
  one warning naming it and why, and the rest is indexed and answered. `certdesk index build
  --strict` fails on them instead and keeps the previous index.
* tests/corpus/real/ (14 public documents: markdown, HTML, PDF, DOCX; see tests/corpus/README.md)
  copied beside the seeds builds without a skipped file, and questions written from them
  (data/eval/real/real_documents.yaml) are answered from the right file with the fact quoted.
"""

from __future__ import annotations

import io
import logging
import random
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from conftest import point_env_at
from index.build import build_index
from index.store import current_path, read_manifest
from index.config import Paths
from index.evaluation import SourceTexts, check_answer
from index.ingest import load_sections
from index.catalog import load_catalog
from index.readers import SUFFIXES, ReadError, read
from index.search import Engine

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "corpus" / "real"

BROKEN = ("corrupt.pdf", "junk.html", "notes.xlsx")


def run(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(args, out=out, stdin=io.StringIO(""))
    return code, out.getvalue()


def add_broken_files(seeds: Path) -> None:
    """A truncated PDF, random bytes named .html, and a file type certdesk does not read."""
    whole = (REAL / "microsoft-offering-pci-dss.pdf").read_bytes()
    (seeds / "corrupt.pdf").write_bytes(whole[:400])
    (seeds / "junk.html").write_bytes(random.Random(0).randbytes(4000))
    (seeds / "notes.xlsx").write_bytes(b"PK\x03\x04 a spreadsheet, not a document")


def add_good_files_in_subfolders(seeds: Path) -> None:
    """One real document per supported suffix, nested, with .markdown and .htm spellings."""
    nested = seeds / "vendors" / "microsoft"
    nested.mkdir(parents=True)
    shutil.copy(REAL / "microsoft-offering-soc.html", nested / "microsoft-offering-soc.html")
    shutil.copy(REAL / "microsoft-offering-c5-germany.html", nested / "c5.htm")
    shutil.copy(REAL / "microsoft-offering-csa-star-certification.md", nested / "csa-star.markdown")
    shutil.copy(REAL / "microsoft-offering-fips-140-2.md", seeds / "vendors" / "fips.md")
    deeper = seeds / "vendors" / "aws" / "pdf"
    deeper.mkdir(parents=True)
    shutil.copy(REAL / "aws-cloudhsm-fips-validation.pdf", deeper / "cloudhsm.pdf")
    shutil.copy(REAL / "microsoft-offering-fedramp.docx", seeds / "vendors" / "fedramp.docx")


GOOD_FILES = {
    ".txt": "001_f1959257ed4868ff.txt",
    ".html": "vendors/microsoft/microsoft-offering-soc.html",
    ".htm": "vendors/microsoft/c5.htm",
    ".markdown": "vendors/microsoft/csa-star.markdown",
    ".md": "vendors/fips.md",
    ".pdf": "vendors/aws/pdf/cloudhsm.pdf",
    ".docx": "vendors/fedramp.docx",
}


@pytest.fixture()
def mixed(corpus) -> Paths:
    """The seeds plus one good file of every suffix in subfolders, plus three broken files."""
    add_good_files_in_subfolders(corpus.seeds_dir)
    add_broken_files(corpus.seeds_dir)
    return corpus


# --- every suffix, every subfolder ----------------------------------------------------------


def test_supported_suffixes_are_the_documented_ones():
    assert set(SUFFIXES) == {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}


def test_every_suffix_in_subfolders_is_indexed(mixed):
    sections, skipped = load_sections(mixed.seeds_dir, load_catalog(mixed.data_dir))
    sources = {src for s in sections for src in s.sources}
    assert set(GOOD_FILES) == set(SUFFIXES)
    for suffix, name in GOOD_FILES.items():
        assert name in sources, f"{suffix}: {name} was not indexed"
    assert sorted(s.source for s in skipped) == sorted(BROKEN)


# --- broken files: skipped, said once, the rest answered ------------------------------------


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_unreadable_files_are_skipped_with_one_warning_each_and_the_rest_answered(mixed, caplog):
    caplog.set_level(logging.WARNING)
    info = build_index(mixed)
    assert sorted(s.source for s in info.skipped) == sorted(BROKEN)
    assert info.documents == 3 + len(GOOD_FILES) - 1      # the .txt file is one of the seeds
    warnings = _warnings(caplog)
    reasons = {
        "corrupt.pdf": "cannot parse",
        "junk.html": "binary data",
        "notes.xlsx": "unknown file type .xlsx",
    }
    for name, reason in reasons.items():
        naming = [w for w in warnings if name in w]
        assert len(naming) == 1, (name, naming)
        assert reason in naming[0], naming[0]
    assert read_manifest(info.path)["skipped"] == [
        {"source": s.source, "reason": s.reason} for s in info.skipped]

    engine = Engine.open_existing(mixed.index_dir)
    try:
        seeds = engine.ask("how many IDCs passed tisax?")
        assert "15 IDCs" in seeds.results[0].passage
        soc = engine.ask("how often are azure soc reports issued").results[0]
        assert soc.source == GOOD_FILES[".html"] and "issued semi-annually" in soc.passage
        hsm = engine.ask("is cloudhsm PCI PIN certified and since when?").results[0]
        assert hsm.source == GOOD_FILES[".pdf"]
        assert "PCI PIN certified since January 2023" in " ".join(hsm.passage.split())
    finally:
        engine.close()


def test_a_skipped_file_makes_exactly_one_warning_line(mixed, caplog):
    caplog.set_level(logging.WARNING)
    build_index(mixed)
    assert len(_warnings(caplog)) == len(BROKEN), _warnings(caplog)


def high_bytes(n: int) -> bytes:
    """Random bytes without NUL, none of them ASCII: no UTF-8, but any 8-bit code page decodes it."""
    rng = random.Random(2)
    return bytes(rng.randrange(0x80, 0x100) for _ in range(n))


@pytest.mark.parametrize("name, content, reason", [
    ("corrupt.pdf", None, "cannot parse"),
    ("random.html", random.Random(1).randbytes(4000), "binary data"),
    ("high-bytes.htm", high_bytes(4000), "binary data"),
    ("spreadsheet.xlsx", b"PK\x03\x04", "unknown file type .xlsx"),
    ("README", b"no suffix at all", "unknown file type (none)"),
    ("broken.docx", b"PK\x03\x04 not really a zip", "not a Word .docx file"),
])
def test_reader_refuses_unreadable_files_with_a_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content if content is not None
                     else (REAL / "microsoft-offering-pci-dss.pdf").read_bytes()[:400])
    with pytest.raises(ReadError) as err:
        read(path)
    assert reason in str(err.value)


def test_strict_build_fails_names_the_files_and_keeps_the_previous_index(corpus, monkeypatch, capsys):
    point_env_at(monkeypatch, corpus)
    assert run(["index", "build"])[0] == 0
    previous = current_path(corpus.index_dir)
    add_good_files_in_subfolders(corpus.seeds_dir)
    add_broken_files(corpus.seeds_dir)

    code, out = run(["index", "build", "--strict"])
    err = capsys.readouterr().err
    assert code == 1 and out == ""
    for name in BROKEN:
        assert name in err
    assert "3 file(s) could not be indexed" in err and "Traceback" not in err
    assert current_path(corpus.index_dir) == previous
    assert [p.resolve() for p in (corpus.index_dir / "builds").iterdir()] == [previous]
    # The previous index is the one that answers: the new SOC page is not in it.
    engine = Engine.open_existing(corpus.index_dir)
    try:
        assert engine.path == previous
        assert "15 IDCs" in engine.ask("how many IDCs passed tisax?").results[0].passage
        assert not any(r.source.startswith("vendors/")
                       for r in engine.ask("how often are azure soc reports issued").results)
    finally:
        engine.close()

    # Without --strict the same corpus builds, skipping the three files.
    code, out = run(["index", "build"])
    assert code == 0 and "from 9 documents" in out
    assert current_path(corpus.index_dir) != previous


# --- the real-document corpus ---------------------------------------------------------------


@pytest.fixture(scope="module")
def real_paths(tmp_path_factory) -> Paths:
    """seeds/ and tests/corpus/real/ in one temporary seeds directory, built by the CLI."""
    root = tmp_path_factory.mktemp("real")
    seeds = root / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    shutil.copytree(REAL, seeds / "real")
    paths = Paths(seeds_dir=seeds, data_dir=ROOT / "data", index_dir=root / "index")
    with pytest.MonkeyPatch.context() as mp:
        point_env_at(mp, paths)
        code, out = run(["index", "build"])
    assert code == 0, out
    manifest = read_manifest(current_path(paths.index_dir))
    assert manifest["skipped"] == []
    assert manifest["documents"] == 3 + 14
    return paths


@pytest.fixture(scope="module")
def real_engine(real_paths):
    engine = Engine.open_existing(real_paths.index_dir)
    yield engine
    engine.close()


def test_real_corpus_has_fourteen_documents_in_four_formats():
    files = sorted(p.name for p in REAL.iterdir())
    assert len(files) == 14
    assert {Path(f).suffix for f in files} == {".md", ".html", ".pdf", ".docx"}


def test_real_corpus_builds_without_skipping_a_file(real_paths, caplog):
    sections, skipped = load_sections(real_paths.seeds_dir, load_catalog(real_paths.data_dir))
    assert skipped == []
    indexed = {src for s in sections for src in s.sources}
    assert {f"real/{p.name}" for p in REAL.iterdir()} <= indexed
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "skipping" in r.getMessage()]


@pytest.mark.parametrize("question, source, fact", [
    # PDF (fpdf2-rendered Microsoft page; the Title comes from the PDF metadata)
    ("which pci dss version is azure certified under", "real/microsoft-offering-pci-dss.pdf",
     "PCI DSS version 3.2"),
    ("is cloudhsm PCI PIN certified and since when?", "real/aws-cloudhsm-fips-validation.pdf",
     "PCI PIN certified since January 2023"),
    # DOCX (python-docx, Heading 1/2/3 styles)
    ("who issued the fedramp ATO for office 365", "real/microsoft-offering-fedramp.docx",
     "DHHS Office of the Inspector General"),
    # HTML (rendered page with site chrome)
    ("how many requirements are in the C5 catalog", "real/microsoft-offering-c5-germany.html",
     "114 requirements across 17 domains"),
    # Markdown with docs-site front matter, [!INCLUDE] lines and links
    ("what level did azure get for CSA STAR certification?", "real/microsoft-offering-csa-star-certification.md",
     "STAR Certification at the Gold level"),
    # Markdown table row
    ("is AKS fedramp high in azure government?", "real/azure-services-in-fedramp-auditscope.md",
     "Azure Kubernetes Service (AKS)"),
])
def test_real_documents_answer_from_the_right_file_with_the_fact(real_engine, real_paths, question, source, fact):
    answer = real_engine.ask(question)
    assert answer.answered, question
    top = answer.results[0]
    assert top.source == source, (top.source, top.title)
    assert fact in " ".join(top.passage.split()), top.passage
    # Quoted verbatim from what a reader of that file sees, and nothing said to be missing.
    assert check_answer(answer, SourceTexts(real_paths.seeds_dir)) == (0, 0)
    assert answer.not_stated == ()


def test_real_questions_used_here_are_in_the_question_file():
    text = (ROOT / "data" / "eval" / "real" / "real_documents.yaml").read_text(encoding="utf-8")
    for question in ("which pci dss version is azure certified under", "is cloudhsm PCI PIN certified and since when?",
                     "who issued the fedramp ATO for office 365", "how many requirements are in the C5 catalog",
                     "what level did azure get for CSA STAR certification?", "is AKS fedramp high in azure government?"):
        assert f'q: "{question}"' in text, question


def test_passages_from_a_pdf_have_whitespace_folded(real_engine):
    answer = real_engine.ask("is cloudhsm PCI PIN certified and since when?")
    for r in answer.to_dict()["results"]:
        assert r["passage"] == " ".join(r["passage"].split()), r["passage"]
