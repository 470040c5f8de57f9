"""Build certdesk's search index for a deployment, and prove it complete.

Run by the Dockerfile at image build time, and by the Procfile's release step, as

    python deploy/build_index.py

with CERTDESK_SEEDS_DIR, CERTDESK_DATA_DIR and CERTDESK_INDEX_DIR read exactly as `certdesk`
reads them. It needs only the installed certdesk package (bot/ and index/), no checkout.

1. data/ is loaded and validated first. An error stops here, naming the file and line
   (exit 1): no index is built, so no image is made from broken data.
2. The index is built and swapped in, as `certdesk index build` does (a document that cannot
   be read is skipped with a warning naming it, as `certdesk serve` would skip it).
3. The result is checked: `current` points at a build with its manifest and lexicon, it
   opens and reads, it is fresh for these sources (so `certdesk serve` starts on it and does
   not rebuild), and every certification it knows answers a question naming it.

Prints one line saying what was built; on failure one line per problem, on stderr.
"""

from __future__ import annotations

import json
import logging
import sys

from index.build import build_index
from index.catalog import load_catalog
from index.config import Paths
from index.errors import BuildError, DataError
from index.store import content_hash, current_path, document_files, read_manifest, unreadable

PROG = "build_index"


class Incomplete(Exception):
    """The index was built but is not one certdesk could serve from."""


def check(paths: Paths) -> dict:
    """What is wrong with the index at paths.index_dir, raised as Incomplete; else its manifest."""
    from index.search import Engine

    path = current_path(paths.index_dir)
    if path is None:
        raise Incomplete(f"{paths.index_dir}/current does not point at a build with a manifest")
    manifest = read_manifest(path)
    if manifest.get("content_hash") != content_hash(paths):
        raise Incomplete(f"{path} is not fresh for {paths.seeds_dir} and {paths.data_dir}: "
                         "certdesk serve would rebuild it at start")
    if not manifest.get("sections"):
        raise Incomplete(f"{path} holds no sections")
    reason = unreadable(path)
    if reason is not None:
        raise Incomplete(f"{path} cannot be read: {reason}")
    lexicon = json.loads((path / "lexicon.json").read_text(encoding="utf-8"))
    names = [cert["name"] for cert in lexicon.get("certifications", {}).values()]
    if not names:
        raise Incomplete(f"{path} knows no certification")
    engine = Engine.open(paths)
    try:
        unanswered = [name for name in names if not engine.ask(name).answered]
    finally:
        engine.close()
    if unanswered:
        raise Incomplete("no answer to a question naming " + ", ".join(unanswered))
    return manifest


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args:
        print("usage: python deploy/build_index.py (no arguments; CERTDESK_SEEDS_DIR, "
              "CERTDESK_DATA_DIR and CERTDESK_INDEX_DIR say where)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(levelname)s %(name)s: %(message)s")
    paths = Paths.from_env()
    try:
        load_catalog(paths.data_dir)       # data/ first: nothing is built from broken data
        if not document_files(paths.seeds_dir):
            raise BuildError(f"no documents in {paths.seeds_dir}: nothing to answer from")
        info = build_index(paths, force=True)
        manifest = check(paths)
    except DataError as exc:
        print(f"{PROG}: error: data is broken: {exc}", file=sys.stderr)
        print(f"{PROG}: no index was built; fix the file and build again", file=sys.stderr)
        return 1
    except (BuildError, Incomplete) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    skipped = manifest.get("skipped") or []
    print(f"{PROG}: index of {manifest['sections']} sections from {manifest['documents']} documents "
          f"({len(skipped)} skipped) in {info.path}, fresh for {paths.seeds_dir} + {paths.data_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
