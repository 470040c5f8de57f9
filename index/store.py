"""Where the current index lives and whether it is still fresh.

Everything the answer path needs before it opens an index, and nothing more: `certdesk ask`
on a built index should cost the search, not the import of the build path (readers, ftfy,
the YAML catalogue). `build.py` is imported only when a rebuild is actually due.

Freshness is checked in two steps. First a cheap fingerprint of the inputs: every file's
name, size, modification time and status-change time (seeds/, data/ and this package's
code; the last one moves on every write and cannot be set back, so an edit that keeps size and
restores the modification time is still seen). Only when that changed is a content hash read
from the bytes: touching a file, or a checkout that resets times, costs one hash and is noted;
editing one rebuilds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from .config import Paths
from .errors import BuildError, DataError

log = logging.getLogger(__name__)

# Bump when the schema or the stored data changes shape; the code's own hash (below) also
# forces a rebuild whenever index/ changes.
FORMAT = 4   # 4: valid_until, review_by (and where each was stated) and scope per section
DATA_FILES = ("certifications.yaml", "products.yaml", "documents.yaml", "vocabulary.yaml")
_CODE = Path(__file__).resolve().parent
_SEEN = "fingerprint.json"   # beside a build's manifest: input fingerprints known to match it


def document_files(seeds_dir: Path) -> list[Path]:
    """Every visible file under the seeds directory (subfolders included), sorted."""
    if not seeds_dir.is_dir():
        raise DataError(seeds_dir, None, "seeds directory not found (set CERTDESK_SEEDS_DIR)")
    return [path for path in sorted(seeds_dir.rglob("*"))
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(seeds_dir).parts)]


def data_files(data_dir: Path) -> list[Path]:
    """The files that shape the index (evaluation questions do not)."""
    return [data_dir / name for name in DATA_FILES if (data_dir / name).is_file()]


def _inputs(paths: Paths) -> Iterable[tuple[str, Path, Path]]:
    """(group, root, file) for every file an index is built from, in a stable order."""
    groups = [("seeds", paths.seeds_dir, document_files(paths.seeds_dir)),
              ("data", paths.data_dir, data_files(paths.data_dir)),
              ("code", _CODE, sorted(_CODE.rglob("*.py")))]
    for tag, root, files in groups:
        for f in files:
            yield tag, root, f


def content_hash(paths: Paths) -> str:
    """What the index was built from, by content: seed files, metadata files and index code."""
    h = hashlib.sha256(f"format {FORMAT}\n".encode())
    for tag, root, f in _inputs(paths):
        h.update(f"{tag}/{f.relative_to(root)}\n".encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def fingerprint(paths: Paths) -> str:
    """The inputs by name, size and times: no file is read."""
    h = hashlib.sha256(f"format {FORMAT}\n".encode())
    for tag, root, f in _inputs(paths):
        st = f.stat()
        h.update(f"{tag}/{f.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\n".encode())
    return h.hexdigest()


# --- the current build ---------------------------------------------------------------------


def current_path(index_dir: Path) -> Path | None:
    """The complete index readers should open, or None."""
    link = index_dir / "current"
    try:
        target = link.resolve(strict=True)
    except (FileNotFoundError, RuntimeError, OSError):
        return None
    return target if (target / "manifest.json").is_file() else None


def read_manifest(path: Path) -> dict:
    try:
        return json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _seen_fingerprints(path: Path, manifest: dict) -> set[str]:
    seen = {manifest["fingerprint"]} if manifest.get("fingerprint") else set()
    try:
        seen.update(json.loads((path / _SEEN).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        pass
    return seen


def _remember(path: Path, seen: set[str], new: str) -> None:
    """Note that `new` inputs match this build, so the next check skips the content hash.
    Written aside and renamed in: the manifest itself never changes after the build."""
    tmp = path / f".{_SEEN}.{os.getpid()}"
    try:
        tmp.write_text(json.dumps(sorted(seen | {new})[-8:]), encoding="utf-8")
        os.replace(tmp, path / _SEEN)
    except OSError as exc:   # a read-only index still answers; it only re-hashes next time
        log.debug("could not note the fingerprint in %s: %s", path, exc)


def is_fresh(paths: Paths, digest: str | None = None) -> bool:
    """Whether the current index was built from exactly today's seeds/, data/ and code."""
    path = current_path(paths.index_dir)
    if path is None:
        return False
    manifest = read_manifest(path)
    if digest is not None:
        return manifest.get("content_hash") == digest
    seen = _seen_fingerprints(path, manifest)
    now = fingerprint(paths)
    if now in seen:
        return True
    if manifest.get("content_hash") != content_hash(paths):
        return False
    _remember(path, seen, now)
    return True


# An index up to this size is memory-mapped (see open_index).
MMAP_MAX_BYTES = 4 * 1024 * 1024


def open_index(path: Path):
    """The Whoosh index at `path`: memory-mapped when small, else read through file reads.

    With memory mapping, Whoosh copies every file of the index into memory at each open (a
    BytesIO over the map): 80 ms and the index's size in memory per searcher at 50,000
    sections, which is most of a cold `certdesk ask`. Under MMAP_MAX_BYTES that copy costs
    about a millisecond, and every term lookup then reads memory instead of going through
    Python file objects: a third of a question's time on the seeds (1 ms of 3)."""
    from whoosh.filedb.filestore import FileStorage

    return FileStorage(str(path), supports_mmap=_index_bytes(path) <= MMAP_MAX_BYTES).open_index()


def _index_bytes(path: Path) -> int:
    """The size of the Whoosh files of the index at `path` (its segments and table of contents)."""
    try:
        return sum(entry.stat().st_size for entry in os.scandir(path)
                   if entry.is_file() and entry.name.endswith((".seg", ".toc")))
    except OSError:
        return MMAP_MAX_BYTES + 1   # let Whoosh say what is wrong with the folder


def unreadable(path: Path) -> str | None:
    """Why the index at `path` cannot be opened and read (gone or damaged), or None if it can.

    Quiet, unlike `usable`: a server asks this of every failing question and logs only once.
    """
    try:
        ix = open_index(path)
        try:
            with ix.searcher() as searcher:
                searcher.doc_count()
                next(iter(searcher.all_stored_fields()), None)
        finally:
            ix.close()
        json.loads((path / "lexicon.json").read_text(encoding="utf-8"))
    except Exception as exc:   # any failure to read it means it cannot serve
        return f"{type(exc).__name__}: {exc}"
    return None


def usable(path: Path) -> bool:
    """Whether a complete-looking index can actually be opened and read (not damaged)."""
    reason = unreadable(path)
    if reason is not None:
        log.warning("index at %s is damaged (%s)", path, reason)
    return reason is None


def ensure_index(paths: Paths) -> Path:
    """The current index, built first when it is missing, damaged, or older than seeds/ or data/."""
    if is_fresh(paths):
        path = current_path(paths.index_dir)
        if path is not None and usable(path):
            return path
        log.warning("rebuilding the damaged index from %s", paths.seeds_dir)
        force = True
    else:
        force = False
    from .build import build_index   # the build path (readers, catalogue) only when needed

    return build_index(paths, force=force).path


__all__ = ["BuildError", "DataError", "FORMAT", "content_hash", "current_path", "data_files",
           "document_files", "ensure_index", "fingerprint", "is_fresh", "open_index", "read_manifest",
           "unreadable", "usable"]
