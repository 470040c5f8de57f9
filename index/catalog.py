"""Curated metadata from `data/*.yaml`: certification names, products, vocabulary.

Everything particular to a certification lives in these files, never in Python: adding a
certification or a product name is a YAML edit and a re-index. The files are validated
strictly (unknown keys, wrong types) because a typo in a key would otherwise silently drop an
alias, and the bot would stop answering a question it used to answer. Errors name the file and
line so the compliance team can fix them without reading code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .asks import AskKind
from .errors import DataError
from .store import DATA_FILES, data_files  # noqa: F401 (data_files: where callers look)

VISIBILITIES = ("public", "internal")


# --- YAML with line numbers --------------------------------------------------------------


class _Map(dict):
    """A mapping that remembers the line of each key, for error messages."""

    line: int = 0
    key_lines: dict[str, int]


class _Seq(list):
    line: int = 0


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records line numbers; constructs only plain YAML types."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise DataError(loader.name, key_node.start_mark.line + 1, "keys must be plain text")
        key = str(key)
        if key in result:
            raise DataError(loader.name, key_node.start_mark.line + 1, f"duplicate key {key!r}")
        try:
            result[key] = loader.construct_object(value_node, deep=True)
        except ValueError as exc:
            # A value YAML recognises but cannot build, such as the date 2025-02-30.
            shown = f" {value_node.value!r}" if isinstance(value_node, yaml.ScalarNode) else ""
            raise DataError(loader.name, value_node.start_mark.line + 1,
                            f"{key!r}:{shown} is not a valid value ({exc})") from None
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(text: str, path: Path | str) -> Any:
    """Parse YAML text like `yaml.safe_load`, raising DataError with file and line."""
    loader = _LineLoader(text)
    loader.name = str(path)
    try:
        return loader.get_single_data()
    except DataError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = f"invalid YAML: {exc.problem or exc}"
        opened = exc.context_mark
        if opened and mark and opened.line < mark.line and exc.context and (
                "flow" in exc.context or "scalar" in exc.context):
            # An unclosed [ { or quote: the mistake is where it opened, not where the parser
            # gave up.
            message += f" (the {exc.context.replace('while parsing a ', '')} opened here is not closed; " \
                       f"the parser noticed at line {line})"
            line = opened.line + 1
        raise DataError(path, line, message) from None
    except yaml.YAMLError as exc:
        raise DataError(path, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def read_yaml_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise DataError(path, None, f"cannot read: {exc.strerror}") from None
    return load_yaml(text, path)


# --- validation helpers -------------------------------------------------------------------


def _line_of(container: Any, key: str | None = None) -> int | None:
    if key is not None and isinstance(container, _Map):
        return container.key_lines.get(key, container.line)
    return getattr(container, "line", None) or None


def check_keys(mapping: Any, allowed: Iterable[str], path: Path | str, what: str,
               required: Iterable[str] = ()) -> None:
    """Reject anything but a mapping with known keys: typos must not pass silently."""
    if not isinstance(mapping, dict):
        raise DataError(path, _line_of(mapping), f"{what} must be a mapping of keys to values")
    allowed = tuple(allowed)
    for key in mapping:
        if key not in allowed:
            raise DataError(path, _line_of(mapping, key),
                            f"unknown key {key!r} in {what} (known keys: {', '.join(allowed)})")
    for key in required:
        if key not in mapping or mapping[key] in (None, ""):
            raise DataError(path, _line_of(mapping), f"{what} needs {key!r}")


def _text(mapping: dict, key: str, path: Path | str, what: str) -> str | None:
    value = mapping.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DataError(path, _line_of(mapping, key), f"{what}: {key!r} must be text")
    text = str(value).strip()
    return text or None


def _texts(mapping: dict, key: str, path: Path | str, what: str) -> tuple[str, ...]:
    value = mapping.get(key)
    if value is None:
        return ()
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise DataError(path, _line_of(mapping, key), f"{what}: {key!r} must be a list of text")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise DataError(path, _line_of(value) or _line_of(mapping, key),
                            f"{what}: every entry of {key!r} must be text, not {type(item).__name__}")
        if str(item).strip():
            out.append(str(item).strip())
    return tuple(out)


def _visibility(mapping: dict, path: Path | str, what: str) -> str | None:
    value = _text(mapping, "visibility", path, what)
    if value is not None and value not in VISIBILITIES:
        raise DataError(path, _line_of(mapping, "visibility"),
                        f"{what}: visibility must be one of {', '.join(VISIBILITIES)}, not {value!r}")
    return value


def _date(mapping: dict, key: str, path: Path | str, what: str) -> str | None:
    """A curated date as YYYY-MM-DD: a YAML date, or text written exactly that way.

    Stricter than the dates read from documents on purpose: "March 2025" or "soon" in
    data/ is a typo to fix, not a date to guess."""
    value = mapping.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip() if isinstance(value, str) else ""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    raise DataError(path, _line_of(mapping, key),
                    f"{what}: {key} must be a date written YYYY-MM-DD, such as 2025-03-01, not {value!r}")


def slug(text: str) -> str:
    """A stable key for a name: lower-case letters, digits and dashes."""
    s = re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-")
    return s or "untitled"


# --- the catalogue --------------------------------------------------------------------------


@dataclass(frozen=True)
class Certification:
    key: str
    name: str
    titles: tuple[str, ...] = ()   # section headings that belong to this certification
    names: tuple[str, ...] = ()    # aliases, acronyms, expansions, other languages
    topics: tuple[str, ...] = ()   # countries, regulators, industries: help ranking only
    scope: str | None = None       # what it covers, in the compliance team's words (/cert list)
    valid_until: str | None = None  # YYYY-MM-DD: overrides what the documents state
    review_by: str | None = None    # YYYY-MM-DD: when the compliance team must look again


@dataclass(frozen=True)
class Product:
    name: str
    names: tuple[str, ...]         # what staff call it: COS, object storage, 对象存储


@dataclass(frozen=True)
class DocumentMeta:
    title: str | None = None
    visibility: str | None = None
    source_url: str | None = None
    certification: str | None = None
    valid_until: str | None = None   # YYYY-MM-DD, for a file whose text does not say
    review_by: str | None = None


DOCUMENT_KEYS = ("title", "visibility", "source_url", "certification", "valid_until", "review_by")


@dataclass(frozen=True)
class Vocabulary:
    stopwords: frozenset[str] = frozenset()
    number_words: frozenset[str] = frozenset()
    all_words: frozenset[str] = frozenset()
    definition_words: frozenset[str] = frozenset()
    synonyms: tuple[tuple[str, ...], ...] = ()
    generic_labels: frozenset[str] = frozenset()
    block_headings: tuple[str, ...] = ()
    boilerplate: tuple[re.Pattern[str], ...] = ()
    company_names: tuple[str, ...] = ()
    asks: tuple[AskKind, ...] = ()
    history_words: frozenset[str] = frozenset()
    named_documents: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Catalog:
    certifications: tuple[Certification, ...] = ()
    products: tuple[Product, ...] = ()
    documents: dict[str, DocumentMeta] = field(default_factory=dict)
    vocabulary: Vocabulary = Vocabulary()

    def certification(self, key_or_name: str) -> Certification | None:
        wanted = slug(key_or_name)
        for cert in self.certifications:
            if cert.key == wanted or slug(cert.name) == wanted:
                return cert
        return None


def document_meta(mapping: Any, path: Path | str, what: str) -> DocumentMeta:
    """Validate one document's metadata (from data/documents.yaml or front matter)."""
    check_keys(mapping, DOCUMENT_KEYS, path, what)
    return DocumentMeta(
        title=_text(mapping, "title", path, what),
        visibility=_visibility(mapping, path, what),
        source_url=_text(mapping, "source_url", path, what),
        certification=_text(mapping, "certification", path, what),
        valid_until=_date(mapping, "valid_until", path, what),
        review_by=_date(mapping, "review_by", path, what),
    )


def _load_certifications(path: Path, doc: Any) -> tuple[Certification, ...]:
    check_keys(doc, ("certifications",), path, "the file")
    entries = doc.get("certifications") or []
    if not isinstance(entries, list):
        raise DataError(path, _line_of(doc, "certifications"), "'certifications' must be a list")
    certs: list[Certification] = []
    seen: dict[str, int | None] = {}
    for entry in entries:
        what = "a certification"
        check_keys(entry, ("name", "titles", "names", "topics", "scope", "valid_until", "review_by"),
                   path, what, required=("name",))
        name = _text(entry, "name", path, what) or ""
        what = f"certification {name!r}"
        key = slug(name)
        if key in seen:
            raise DataError(path, _line_of(entry), f"{what} is listed twice (also line {seen[key]})")
        seen[key] = _line_of(entry)
        certs.append(Certification(
            key=key, name=name,
            titles=_texts(entry, "titles", path, what),
            names=_texts(entry, "names", path, what),
            topics=_texts(entry, "topics", path, what),
            scope=_text(entry, "scope", path, what),
            valid_until=_date(entry, "valid_until", path, what),
            review_by=_date(entry, "review_by", path, what),
        ))
    return tuple(certs)


def _load_products(path: Path, doc: Any) -> tuple[Product, ...]:
    check_keys(doc, ("products",), path, "the file")
    entries = doc.get("products") or []
    if not isinstance(entries, list):
        raise DataError(path, _line_of(doc, "products"), "'products' must be a list")
    products = []
    for entry in entries:
        check_keys(entry, ("name", "names"), path, "a product", required=("name",))
        name = _text(entry, "name", path, "a product") or ""
        products.append(Product(name=name, names=(name,) + _texts(entry, "names", path, f"product {name!r}")))
    return tuple(products)


def _load_documents(path: Path, doc: Any) -> dict[str, DocumentMeta]:
    check_keys(doc, ("documents",), path, "the file")
    entries = doc.get("documents") or {}
    if not isinstance(entries, dict):
        raise DataError(path, _line_of(doc, "documents"), "'documents' must map file names to metadata")
    return {name: document_meta(meta or _Map(), path, f"document {name!r}") for name, meta in entries.items()}


def _patterns(mapping: dict, key: str, path: Path | str, what: str) -> tuple[re.Pattern[str], ...]:
    patterns = []
    for pattern in _texts(mapping, key, path, what):
        try:
            patterns.append(re.compile(pattern))
        except re.error as exc:
            raise DataError(path, _line_of(mapping, key),
                            f"{what}: {pattern!r} is not a valid regular expression: {exc}") from None
    return tuple(patterns)


def _load_asks(path: Path, doc: Any) -> tuple[AskKind, ...]:
    asks = doc.get("asks") or _Map()
    if not isinstance(asks, dict):
        raise DataError(path, _line_of(doc, "asks"), "'asks' must map a kind of fact to its cues and evidence")
    kinds = []
    for name, entry in asks.items():
        what = f"ask {name!r}"
        check_keys(entry, ("cues", "cjk_cues", "question_patterns", "evidence", "hints", "absorbs", "label",
                           "about_us", "not_after"),
                   path, what)
        about_us = entry.get("about_us", False)
        if not isinstance(about_us, bool):
            raise DataError(path, _line_of(entry, "about_us"), f"{what}: about_us must be true or false")
        kinds.append(AskKind(
            name=name, cues=tuple(c.lower() for c in _texts(entry, "cues", path, what)),
            cjk_cues=_texts(entry, "cjk_cues", path, what), evidence=_patterns(entry, "evidence", path, what),
            label=_text(entry, "label", path, what), about_us=about_us,
            question_patterns=_patterns(entry, "question_patterns", path, what),
            hints=_patterns(entry, "hints", path, what), absorbs=_texts(entry, "absorbs", path, what),
            not_after=tuple(t.lower() for t in _texts(entry, "not_after", path, what))))
    return tuple(kinds)


def _load_vocabulary(path: Path, doc: Any) -> Vocabulary:
    keys = ("stopwords", "number_words", "all_words", "definition_words", "synonyms", "generic_labels",
            "boilerplate", "company_names", "asks", "history_words", "named_documents")
    check_keys(doc, keys, path, "the file")
    words: Callable[[str], frozenset[str]] = lambda k: frozenset(w.lower() for w in _texts(doc, k, path, "vocabulary"))
    synonyms = doc.get("synonyms") or []
    if not isinstance(synonyms, list):
        raise DataError(path, _line_of(doc, "synonyms"), "'synonyms' must be a list of lists of words")
    groups = []
    for group in synonyms:
        if not isinstance(group, list) or len(group) < 2:
            raise DataError(path, _line_of(group) or _line_of(doc, "synonyms"),
                            "each synonyms entry must be a list of at least two words")
        groups.append(tuple(str(w).strip().lower() for w in group))
    boiler = doc.get("boilerplate") or _Map()
    check_keys(boiler, ("block_headings", "paragraphs"), path, "boilerplate")
    named_documents = doc.get("named_documents") or []
    if not isinstance(named_documents, list) or not all(
            isinstance(g, list) and g and all(isinstance(w, str) for w in g) for g in named_documents):
        raise DataError(path, _line_of(doc, "named_documents"),
                        "'named_documents' must be a list of lists of names (the first is how to say it)")
    return Vocabulary(
        stopwords=words("stopwords"),
        number_words=words("number_words"),
        all_words=words("all_words"),
        definition_words=words("definition_words"),
        synonyms=tuple(groups),
        generic_labels=words("generic_labels"),
        block_headings=_texts(boiler, "block_headings", path, "boilerplate"),
        boilerplate=_patterns(boiler, "paragraphs", path, "boilerplate"),
        company_names=_texts(doc, "company_names", path, "vocabulary"),
        asks=_load_asks(path, doc),
        history_words=words("history_words"),
        named_documents=tuple(tuple(w.strip() for w in g) for g in named_documents),
    )


_LOADERS: dict[str, Callable[[Path, Any], Any]] = {
    "certifications.yaml": _load_certifications,
    "products.yaml": _load_products,
    "documents.yaml": _load_documents,
    "vocabulary.yaml": _load_vocabulary,
}


def load_catalog(data_dir: Path) -> Catalog:
    """Load and validate every metadata file; a missing file means "nothing curated"."""
    if not data_dir.is_dir():
        raise DataError(data_dir, None, "data directory not found (set CERTDESK_DATA_DIR)")
    loaded: dict[str, Any] = {}
    for name in DATA_FILES:
        loader, path = _LOADERS[name], data_dir / name
        if not path.is_file():
            continue
        doc = read_yaml_file(path)
        loaded[name] = loader(path, doc if doc is not None else _Map())
    certs = loaded.get("certifications.yaml", ())
    documents = loaded.get("documents.yaml", {})
    named = [(name, meta.certification) for name, meta in documents.items() if meta.certification]
    if named and not certs:
        raise DataError(data_dir / "certifications.yaml", None,
                        "lists no certifications (the file is empty or missing), but documents.yaml "
                        f"names {named[0][1]!r} for {named[0][0]!r}")
    for name, meta in documents.items():
        if meta.certification and not any(meta.certification in (c.key, c.name) for c in certs):
            raise DataError(data_dir / "documents.yaml", None,
                            f"document {name!r} names certification {meta.certification!r}, "
                            "which certifications.yaml does not list")
    return Catalog(
        certifications=certs,
        products=loaded.get("products.yaml", ()),
        documents=documents,
        vocabulary=loaded.get("vocabulary.yaml", Vocabulary()),
    )
