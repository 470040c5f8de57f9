"""The index analyzers: one folding filter gives the terms Whoosh's three filters gave."""

from __future__ import annotations

from pathlib import Path

from whoosh.analysis import CharsetFilter, LowercaseFilter, StemFilter
from whoosh.support.charset import accent_map

from index.analysis import CjkAwareTokenizer, plain_analyzer, stem_analyzer

ROOT = Path(__file__).resolve().parent.parent

TEXTS = [
    "Tencent Cloud obtained ISO/IEC 27001:2013 certification in 2019.",
    "Société Générale, Ærøskøbing, İstanbul, STRAẞE, Straße, naïve café, ŒUVRE, ﬁle, Ⅻ",
    "可信云服务认证 (Trusted Cloud) 和 数据安全 · データセンター · 한국 인터넷 진흥원",
    "C5:2020, SOC 2 Type II, PCI-DSS v4.0, HITRUST r2, e-Government, ΣΟΦΙΑ, ſtored",
]


def _terms(analyzer, text: str) -> list[str]:
    return [t.text for t in analyzer(text)]


def test_the_folding_filter_gives_the_terms_of_lowercase_charset_and_stem():
    plain = CjkAwareTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)
    stemmed = plain | StemFilter(lang="en")
    texts = TEXTS + [p.read_text(encoding="utf-8", errors="replace") for p in sorted((ROOT / "seeds").rglob("*.txt"))]
    for text in texts:
        assert _terms(plain_analyzer(), text) == _terms(plain, text)
        assert _terms(stem_analyzer(), text) == _terms(stemmed, text)
