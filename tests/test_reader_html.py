"""index/readers/html.py: a saved page in, only its main content out, in order."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from index.readers import Block, ReadError, read, row

PAGE = """<!doctype html>
<html><head>
<title>Trust Center | Acme</title>
<meta name="Description" content="Our certificates">
<meta property="og:url" content="https://acme.example/trust">
<meta property="article:published_time" content="2023-01-15">
<meta property="article:modified_time" content="2024-06-24T10:00:00Z">
<link rel="canonical" href="https://acme.example/trust/">
<script>var tracker = "TRACKERWORD";</script><style>.x { color: red }</style>
</head>
<body class="cookie-banner-open">
<header class="site"><a href="/">HomeLogoWord</a><nav><a href="/p">ProductsMenu</a></nav></header>
<div id="onetrust-banner-sdk">We use CookieWord. <button>AcceptAll</button></div>
<main>
  <header><h1>Certifications &amp; <em>Attestations</em></h1></header>
  <p>Acme holds   the certificates
     below.<br>Ask us for <a href="https://acme.example/copies">copies</a>.</p>
  <nav aria-label="On this page"><a href="#iso">JumpLinkWord</a></nav>
  <h2>ISO 27001</h2>
  <div>Certificate Number: IS 552878</div>
  <ul><li>London<ul><li>Leeds office</li></ul></li><li><p>Remote</p></li></ul>
  <img src="logo.png" alt="AltTextWord">
  <table>
    <caption>Current certificates</caption>
    <thead><tr><th>Standard</th><th>Number</th></tr></thead>
    <tbody><tr><td>ISO 27001</td><td><a href="/c">IS 552878</a></td></tr><tr><td></td><td></td></tr></tbody>
  </table>
  <table><tr><th>Region</th><th>Scope</th></tr><tr><td>EU</td><td>All services</td></tr></table>
  <pre><code>curl CodeWord</code></pre>
  <dl><dt>Issued</dt><dd>2 January 2024</dd></dl>
  <blockquote>Quoted statement</blockquote>
  <figure><img src="c.png" alt="ChartAlt"><figcaption>Figure 1: scope</figcaption></figure>
  <span hidden>HiddenWord</span><div style="display: none">InvisibleWord</div>
  <span aria-hidden="true">IconWord</span>
  <form><label>SearchLabelWord</label><input name="q"></form>
  <aside>RelatedPostsWord</aside>
  <noscript>NoScriptWord</noscript>
</main>
<footer>Copyright FooterWord Inc</footer>
<div role="dialog">SubscribeWord</div>
<script>document.write("LateScriptWord")</script>
</body></html>
"""

NOT_CONTENT = ("TRACKERWORD", "HomeLogoWord", "ProductsMenu", "CookieWord", "AcceptAll",
               "JumpLinkWord", "AltTextWord", "CodeWord", "ChartAlt", "HiddenWord", "InvisibleWord",
               "IconWord", "SearchLabelWord", "RelatedPostsWord", "NoScriptWord", "FooterWord",
               "SubscribeWord", "LateScriptWord", "https://")


def page(tmp_path: Path, html: str, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


def everything(doc) -> str:
    return "\n".join([doc.title or ""] + [b.text for b in doc.blocks] + [h for b in doc.blocks for h in b.header])


def test_main_content_in_order_without_chrome(tmp_path):
    doc = read(page(tmp_path, PAGE))
    assert doc.blocks == [
        Block("heading", "Certifications & Attestations", level=1),
        Block("text", "Acme holds the certificates below.\nAsk us for copies."),
        Block("heading", "ISO 27001", level=2),
        Block("text", "Certificate Number: IS 552878"),
        Block("text", "London"),
        Block("text", "Leeds office"),
        Block("text", "Remote"),
        Block("text", "Current certificates"),
        row(["ISO 27001", "IS 552878"], ["Standard", "Number"]),
        row(["EU", "All services"], ["Region", "Scope"]),
        Block("text", "Issued"),
        Block("text", "2 January 2024"),
        Block("text", "Quoted statement"),
        Block("text", "Figure 1: scope"),
    ]
    text = everything(doc)
    for word in NOT_CONTENT:
        assert word not in text


def test_title_meta_and_date(tmp_path):
    doc = read(page(tmp_path, PAGE))
    assert doc.title == "Certifications & Attestations"
    assert doc.date == "2024-06-24"          # modified beats published
    assert doc.meta["description"] == "Our certificates"
    assert doc.meta["article:published_time"] == "2023-01-15"
    assert doc.meta["source_url"] == "https://acme.example/trust/"   # canonical beats og:url


def test_without_main_the_body_is_read_but_not_the_site_header(tmp_path):
    doc = read(page(tmp_path, """<html><head><title>Acme  SOC 2</title>
        <meta property="og:url" content="https://acme.example/soc2"></head><body>
        <header><a>SiteHeaderWord</a></header>
        <section><header><h2>Report</h2></header><p>Type II, see <time datetime="2024-02-30">x</time>
        <time datetime="2023-11-05">5 Nov</time>.</p></section>
        <footer>FooterWord</footer></body></html>"""))
    assert doc.blocks == [Block("heading", "Report", level=2), Block("text", "Type II, see x 5 Nov.")]
    assert doc.title == "Acme SOC 2"         # no <h1>: the <title>
    assert doc.date == "2023-11-05"          # the first <time> that states a real date
    assert doc.meta["source_url"] == "https://acme.example/soc2"
    assert "SiteHeaderWord" not in everything(doc) and "FooterWord" not in everything(doc)


def test_the_largest_content_element_wins(tmp_path):
    doc = read(page(tmp_path, """<body><article><p>Teaser</p></article>
        <article><h1>PCI DSS</h1><p>Acme is a Level 1 service provider under PCI DSS.</p></article></body>"""))
    assert [b.text for b in doc.blocks] == ["PCI DSS", "Acme is a Level 1 service provider under PCI DSS."]
    assert doc.date is None


def test_date_keys_in_order_and_unparseable_ones_skipped(tmp_path):
    doc = read(page(tmp_path, """<head><meta name="last-modified" content="soon">
        <meta name="DC.date" content="March 3, 2021"><meta name="date" content="2022-04-05"></head>
        <body><p>x</p><time datetime="2020-01-01">then</time></body>"""))
    assert doc.date == "2022-04-05"


def test_banner_words_never_remove_the_content_or_its_h1(tmp_path):
    # A page saved with a modal open: the app behind it is aria-hidden, and still the page.
    doc = read(page(tmp_path, """<body class="gdpr-consent"><div id="app" aria-hidden="true">
        <main><p>Covered.</p></main></div><div role="dialog" class="consent">CookieWord</div></body>"""))
    assert [b.text for b in doc.blocks] == ["Covered."]
    doc = read(page(tmp_path, """<body class="gdpr-consent"><div class="cookie-notice">CookieWord</div>
        <div><h2>HIPAA</h2><p>Covered.</p></div></body>"""))
    assert [b.text for b in doc.blocks] == ["HIPAA", "Covered."]
    doc = read(page(tmp_path, """<body><div class="hero-banner"><h1>HIPAA</h1></div>
        <div class="cookie-notice">CookieWord</div><p>Covered.</p></body>"""))
    assert [b.text for b in doc.blocks] == ["HIPAA", "Covered."]
    assert doc.title == "HIPAA"


def test_divs_named_as_chrome_go_on_a_page_without_landmarks(tmp_path):
    doc = read(page(tmp_path, """<body><div id="aws-nav-header">ConsoleWord</div>
        <div id="left-column"><div id="toc"><ul><li><a>TocWord</a></li></ul></div></div>
        <div id="main-content"><div class="breadcrumb">CrumbWord</div>
        <div class="page-header"><h1>Compliance</h1></div>
        <p>Certificate #3254 was issued on August 2, 2018.</p>
        <div class="navigator-note">Kept: not a chrome word.</div>
        <div id="main-col-footer">Did this page help you?</div></div>
        <div id="footer"><div id="feedback">FeedbackWord</div></div></body>"""))
    assert [b.text for b in doc.blocks] == [
        "Compliance", "Certificate #3254 was issued on August 2, 2018.", "Kept: not a chrome word."]


def test_inline_elements_join_and_divs_with_text_are_paragraphs(tmp_path):
    doc = read(page(tmp_path, """<main><div>Scope: <b>all</b><span> regions</span>
        <div>Nested&nbsp;block</div>tail text</div><span>Loose span</span>
        <h3>Line<br>break</h3><pre>Col A   Col B
        second</pre></main>"""))
    assert doc.blocks == [
        Block("text", "Scope: all regions"),
        Block("text", "Nested block"),
        Block("text", "tail text"),
        Block("text", "Loose span"),
        Block("heading", "Line break", level=3),
        Block("text", "Col A Col B\nsecond"),
    ]


def test_first_row_of_th_is_the_header_only_when_first(tmp_path):
    doc = read(page(tmp_path, """<main><table><tr><td>a</td><td>1</td></tr><tr><th>b</th><th>2</th></tr></table></main>"""))
    assert doc.blocks == [row(["a", "1"]), row(["b", "2"])]


def test_binary_junk_is_refused(tmp_path):
    path = tmp_path / "junk.html"
    path.write_bytes(random.Random(0).randbytes(4096))
    with pytest.raises(ReadError):
        read(path)
